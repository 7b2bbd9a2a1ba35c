#!/usr/bin/env bash
# Grade a class on a Slurm cluster: N shards as a job array, then one merge into scores.csv and
# nbgrader's gradebook. Run it from the course folder (where .venv is); prints the merge job's id.
#   deploy/slurm/submit.sh SUBMITTED [SHARDS] [OUT] [GRADEBOOK_URL]
#   deploy/slurm/submit.sh submitted 10 autograded postgresql://user@host/gradebook
set -euo pipefail
here=$(dirname "$0")
submitted=${1:?folder of submissions}
shards=${2:-10}
out=${3:-autograded}
mkdir -p "$out"
array=$(sbatch --parsable --array="0-$((shards - 1))" --output="$out/slurm-%A_%a.out" \
  "$here/grade.sbatch" "$submitted" "$shards" "$out")
sbatch --parsable --dependency="afterok:${array}" --output="$out/slurm-merge-%j.out" \
  "$here/merge.sbatch" "$submitted" "$out" "${4:-}"
