#!/usr/bin/env bash
# Copy a committed resumable training state (CHECKPOINT: weights/*-checkpoint) into a run folder (RUN: a train-codec run,
# or the notebook's OUT_DIR/run), so that the same command goes on where the last sitting stopped. Refuses to overwrite RUN.
#   bash tools/restore_checkpoint.sh CHECKPOINT RUN
set -euo pipefail
checkpoint=${1:?usage: restore_checkpoint.sh CHECKPOINT RUN} run=${2:?usage: restore_checkpoint.sh CHECKPOINT RUN}
[ ! -e "$run" ] || { echo "$run exists: not overwriting it" >&2; exit 1; }
ls "$checkpoint"/*.weights.h5 > /dev/null 2>&1 || { echo "no resumable state in $checkpoint: the run has finished;" \
  "$checkpoint/README.md says at which git commit its last resumable state is" >&2; exit 1; }
mkdir -p "$run/backup"
cp "$checkpoint"/{state.json,settings.json,*.npz,*.weights.h5} "$run/backup/"
[ ! -f "$checkpoint/sittings.json" ] || cp "$checkpoint/sittings.json" "$run/"  # train-codec's per-sitting record
