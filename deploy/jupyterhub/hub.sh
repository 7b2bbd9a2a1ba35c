#!/usr/bin/env bash
# The course on a local JupyterHub (what `make hub` and `make hub-stop` run).
#   deploy/jupyterhub/hub.sh start   # the hub on http://127.0.0.1:$HUB_PORT, accounts printed
#   deploy/jupyterhub/hub.sh stop
# Everything it writes is under $HUB_STATE (default .hub/): the hub's database, each user's home,
# nbgrader's exchange, and a copy of the course (source/, release/, nbgrader_config.py) in the
# instructor's home, which the instructor works in (formgrader serves only what lies under its
# user's server root) and the autograder grades into, so the repository's own folders stay as they are.
#
# HUB_MODE=demo (default): one machine account runs every server, so anyone logged in can read
# everything (the answers included); for trying the course on a laptop.
# HUB_MODE=class (root only): system accounts `instructor` and `student1..N`, each server and the
# autograder run as their own account, and only the instructor and the autograder can read the
# course folder, the grader and the gradebook (accounts, permissions and cgroups below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export HUB_STATE=${HUB_STATE:-$repo/.hub}
export HUB_PORT=${HUB_PORT:-8000} HUB_STUDENTS=${HUB_STUDENTS:-3} HUB_PASSWORD=${HUB_PASSWORD:-transfer-demo}
export HUB_MODE=${HUB_MODE:-demo}
bin=${HUB_BIN:-$repo/.venv/bin}
users="instructor $(seq -s ' ' -f 'student%g' 1 "$HUB_STUDENTS")"
course=$HUB_STATE/home/instructor/course
staff=course-staff  # class mode: the group that may read the grader and the course's answers
marker="transfer-course hub account"  # class mode: the accounts this script made (and may reset)

# a user's JupyterLab: no news pop-up (there is no internet to fetch it from); students without the
# instructor's menus (their server runs without formgrader, see user-config/jupyter_server_config.py)
settings() {
  local home=$1 user=$2
  mkdir -p "$home/.jupyter/lab/user-settings/@jupyterlab/apputils-extension" "$home/.jupyter/labconfig"
  echo '{"fetchNews": "false", "checkForUpdates": false}' \
    >"$home/.jupyter/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
  if [ "$user" != instructor ]; then
    echo '{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true, "@jupyter/nbgrader:create-assignment": true,
      "@jupyter/nbgrader:course-list": true}}' >"$home/.jupyter/labconfig/page_config.json"
  fi
}

# Class mode: a Unix account per person, with a password of its own (PAM logs them in), a home only
# they can open; the instructor in the staff group. Accounts this script did not make are left alone.
accounts() {
  getent group "$staff" >/dev/null || groupadd --system "$staff"
  : >"$HUB_STATE/passwords"
  chmod 600 "$HUB_STATE/passwords"
  for user in $users; do
    local home=$HUB_STATE/home/$user
    if ! getent passwd "$user" >/dev/null; then
      useradd --no-create-home --home-dir "$home" --shell /bin/bash --comment "$marker" "$user"
    elif [ "$(getent passwd "$user" | cut -d: -f5)" != "$marker" ]; then
      echo "class mode: a system account '$user' exists that this script did not make; not touching it" >&2
      exit 1
    fi
    [ "$(getent passwd "$user" | cut -d: -f6)" = "$home" ] || usermod --home "$home" "$user"
    password=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
    echo "$user:$password" | chpasswd
    echo "$user $password" >>"$HUB_STATE/passwords"
  done
  usermod --append --groups "$staff" instructor
}

# Class mode: who may read what. Each home is its owner's alone (the instructor's holds the course
# and the gradebook); the exchange lets everyone write and nobody list (nbgrader's own permission
# model: inbound is write-only, submissions carry a random suffix); in the checkout, only what a
# student's server needs stays readable by others (the environment, the helper package, the
# hub's settings, the released notebooks); the rest (grader/ with its checks and references,
# source/ with the solutions, the example submissions, the tests' corpus) goes to the staff group.
permissions() {
  chmod 0711 "$HUB_STATE"
  for private in jupyterhub.sqlite jupyterhub.log; do  # the hub's database and log: root's alone
    [ -e "$HUB_STATE/$private" ] || install -m 600 /dev/null "$HUB_STATE/$private"
    chmod 600 "$HUB_STATE/$private"
  done
  chmod 1777 "$HUB_STATE/exchange"
  for user in $users; do
    chown -R "$user:$user" "$HUB_STATE/home/$user"
    chmod 0700 "$HUB_STATE/home/$user"
  done
  for entry in "$repo"/* "$repo"/.[!.]*; do
    case $(basename "$entry") in .venv | transfer_course | deploy | release | README.md | pyproject.toml) continue ;; esac
    [ "$entry" = "$HUB_STATE" ] && continue
    chgrp -R "$staff" "$entry" && chmod -R g+rX,o-rwx "$entry"
  done
  # the course's Python must be one a student's account can run (not one under a private home)
  if ! runuser -u student1 -- "$bin/python" -c 'import transfer_course' 2>/dev/null; then
    echo "class mode: student1 cannot run $bin/python (is its interpreter under a private folder such as" \
      "/root? rebuild the environment from a system Python: rm -rf .venv && make venv PYTHON=/usr/bin/python3.11)" >&2
    exit 1
  fi
}

# Class mode: the sandbox caps a submission's memory and tasks with cgroups, and the autograder runs
# as the instructor, who may create cgroups only in a subtree of their own (cgroup v1: a process may
# join a group its user owns). Without it the sandbox falls back to per-process limits, and its task
# limit then counts every process of the instructor's account, their own kernels included.
cgroups() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    echo "class mode: cgroup v2 here; the autograder (as instructor) cannot create cgroups, so the sandbox" \
      "uses per-process limits (run the hub under systemd with Delegate=yes to give it a subtree)" >&2
    return
  fi
  for controller in memory pids cpuacct; do
    local tree=/sys/fs/cgroup/$controller/transfer-course-grader
    [ -d "/sys/fs/cgroup/$controller" ] || continue
    mkdir -p "$tree" 2>/dev/null && chown -R instructor "$tree" ||
      echo "class mode: could not give the instructor $tree; the sandbox uses per-process limits" >&2
  done
}

start() {
  case $HUB_MODE in
  demo) ;;
  class) [ "$(id -u)" = 0 ] || { echo "HUB_MODE=class makes system accounts: run it as root" >&2; exit 1; } ;;
  *) echo "HUB_MODE is demo or class, not '$HUB_MODE'" >&2; exit 2 ;;
  esac
  if [ -f "$HUB_STATE/jupyterhub.pid" ] && kill -0 "$(cat "$HUB_STATE/jupyterhub.pid")" 2>/dev/null; then
    echo "the hub is already running on http://127.0.0.1:$HUB_PORT"; return
  fi
  mkdir -p "$HUB_STATE/home" "$HUB_STATE/exchange"
  chmod 0777 "$HUB_STATE/exchange"  # nbgrader's exchange: every user writes into it
  if [ ! -d "$course" ]; then
    mkdir -p "$course"
    cp -r "$repo/source" "$repo/release" "$repo/nbgrader_config.py" "$course/"
  fi
  for user in $users; do settings "$HUB_STATE/home/$user" "$user"; done
  if [ "$HUB_MODE" = class ]; then accounts; permissions; cgroups; fi
  # its own session, and none of this shell's descriptors: whoever started `make hub` may wait for its output
  (cd "$HUB_STATE" && PATH="$bin:$PATH" exec setsid "$bin/jupyterhub" -f "$here/jupyterhub_config.py") \
    >"$HUB_STATE/jupyterhub.log" 2>&1 </dev/null &
  echo $! >"$HUB_STATE/jupyterhub.pid"
  for _ in $(seq 60); do
    kill -0 "$(cat "$HUB_STATE/jupyterhub.pid")" 2>/dev/null || break  # it stopped: no use waiting
    if curl -sf "http://127.0.0.1:$HUB_PORT/hub/api" >/dev/null; then
      echo "JupyterHub: http://127.0.0.1:$HUB_PORT  (log: $HUB_STATE/jupyterhub.log)"
      if [ "$HUB_MODE" = class ]; then
        echo "accounts: $users; their passwords: $HUB_STATE/passwords (readable by root only)"
      else
        echo "accounts: $users; password: $HUB_PASSWORD"
        echo "demo mode: one password for every account and every server running as $(id -un): anyone logged in" \
          "can read the answers and everyone's work. For a class: HUB_MODE=class (as root)."
      fi
      echo "release an assignment: log in as instructor, Nbgrader > Formgrader > Manage Assignments"
      return
    fi
    sleep 1
  done
  echo "the hub did not come up; its log:" >&2; tail -30 "$HUB_STATE/jupyterhub.log" >&2; exit 1
}

# every process working inside the hub's folder: the hub, its proxy, the users' servers, the autograder
hub_processes() {
  for proc in /proc/[0-9]*; do
    case $(readlink "$proc/cwd" 2>/dev/null) in "$HUB_STATE"|"$HUB_STATE"/*) echo "${proc#/proc/}" ;; esac
  done
}

stop() {
  if [ -f "$HUB_STATE/jupyterhub.pid" ]; then
    pid=$(cat "$HUB_STATE/jupyterhub.pid")
    kill "$pid" 2>/dev/null || true  # the hub stops its proxy, the users' servers and the autograder
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$HUB_STATE/jupyterhub.pid"
  fi
  left=$(hub_processes)
  if [ -n "$left" ]; then kill -9 $left 2>/dev/null || true; fi  # what a hub killed mid-way left behind
  echo "the hub is stopped (its state stays in $HUB_STATE)"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
