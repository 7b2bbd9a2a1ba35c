#!/usr/bin/env bash
# Grade a class on a Slurm cluster: N shards as a job array, then one merge.
#   deploy/slurm/submit.sh submitted 10 [postgresql://user@host/gradebook]
set -euo pipefail
submitted=${1:?folder of submissions}
shards=${2:-10}
mkdir -p autograded
array=$(sbatch --parsable --array="0-$((shards - 1))" deploy/slurm/grade.sbatch "$submitted" "$shards")
sbatch --dependency="afterok:${array}" deploy/slurm/merge.sbatch "$submitted" "${3:-}"
