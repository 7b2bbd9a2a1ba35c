#!/usr/bin/env bash
# A throwaway Slurm cluster of one machine, from Debian's slurm-wlm, to try the job array
# before a real cluster (and for the test suite). Run as root; nothing outside DIR is touched.
#   deploy/slurm/single-node.sh start DIR    # prints the SLURM_CONF to export
#   deploy/slurm/single-node.sh stop DIR
set -euo pipefail
action=${1:?start or stop}
dir=$(realpath -m "${2:?a folder for the cluster}")
conf=$dir/slurm.conf

stop() {
  for daemon in slurmd slurmctld; do
    if [ -f "$dir/$daemon.pid" ]; then kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true; fi
  done
}

case $action in
start)
  for tool in slurmctld slurmd sbatch; do
    command -v $tool >/dev/null || { echo "$tool is missing: apt-get install slurm-wlm" >&2; exit 1; }
  done
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 ))
  # auth/none: one machine, one user (root) and nothing listening beyond localhost,
  # so munge's shared key would guard nothing here. A real cluster keeps munge.
  cat > "$conf" <<CONF
ClusterName=course
SlurmctldHost=localhost
SlurmctldPort=${SLURMCTLD_PORT:-16817}
SlurmdPort=${SLURMD_PORT:-16818}
SlurmUser=root
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$memory_mb State=UNKNOWN
PartitionName=grading Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  slurmctld -f "$conf" -c
  slurmd -f "$conf" -N localhost
  for _ in $(seq 60); do
    state=$(SLURM_CONF=$conf sinfo -h -o %T 2>/dev/null || true)
    if [ "$state" = idle ]; then echo "export SLURM_CONF=$conf"; exit 0; fi
    sleep 1
  done
  echo "the cluster did not come up; logs in $dir/log" >&2
  stop
  exit 1
  ;;
stop) stop ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
