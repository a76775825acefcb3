#!/usr/bin/env bash
# Data-parallel `rnnlab lm train` on SLURM: one torchrun per node, one rank per GPU.
#
#   DATA=/shared/corpus.txt OUT=/shared/runs/big sbatch examples/slurm-train.sh [more flags]
#
# Requeued or resubmitted with the same OUT, it resumes where the last checkpoint stopped.
#SBATCH --job-name=rnnlab-lm
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1        # one torchrun agent per node; it starts that node's ranks
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=04:00:00
#SBATCH --signal=TERM@120          # SIGTERM 2 minutes before the limit: ranks stop, rank 0 saves
#SBATCH --requeue
#SBATCH --output=%x-%j.out
set -euo pipefail

: "${DATA:?set DATA to the training text (a path every node can read)}"
# The run directory must be on a filesystem every node sees: rank 0 writes it, and on
# resume every rank reads it.
OUT=${OUT:-runs/lm-$SLURM_JOB_ID}
resume=()
[[ -f "$OUT/trainer_state.pt" ]] && resume=(--resume)

# The first node of the allocation hosts the rendezvous (c10d: torchrun numbers the nodes
# itself, so no --node-rank).
head=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)

# --batch-size is the global batch: 1024 rows over 16 GPUs is 64 per GPU.
srun --kill-on-bad-exit=1 torchrun \
    --nnodes "$SLURM_JOB_NUM_NODES" \
    --nproc-per-node "${SLURM_GPUS_ON_NODE:-8}" \
    --rdzv-id "$SLURM_JOB_ID" \
    --rdzv-backend c10d \
    --rdzv-endpoint "$head:29500" \
    -m rnnlab lm train --data "$DATA" --batch-size 1024 --steps 20000 --out "$OUT" \
    ${resume[@]+"${resume[@]}"} "$@"
