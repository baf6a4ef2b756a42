#!/usr/bin/env bash
# Fine-tune the shipped hyperprior codec on a lent GPU (Keras 3 on JAX) for about BUDGET_S seconds.
#
# Needs, in the repository root: .whl/ (keras, namex, optree wheels for Python 3.12, as the device
# README says) and .devdata/ (`python tools/cifar_pack.py pack --per-class 150 --out .devdata`).
# Writes the run's files (float16 weights, history, best float32 weights, logs) to $OUT.
# The recipe: start from cae_helpers/zoo/hyperprior, every other batch as 64x64 patches (mosaics of
# four images or one image's crop upscaled), lr 1e-4 then 1e-5 from 80 % of the steps.
# A short probe run times a step first and the epochs are chosen to fill the budget (or EPOCHS is given);
# the exact train-codec command is kept in the run's config.json to repeat it. LARGE_PATCH: patch side (64).
# MAIN_EXTRA: more train-codec options for the main run (a CPU rehearsal: SKIP_WHEELS=1 PROBE_SMOKE=3 MAIN_EXTRA="--smoke 3").
# INIT_FROM: the codec to start from (default the shipped one; empty: from scratch, with LEARNING_RATE 3e-4 say);
# ARCH: architecture options for probe and main run alike (for example ARCH="--hyper-channels 32 --lambdas ...",
# a new model, which needs INIT_FROM empty: a start from another architecture is refused).
set -euo pipefail
BUDGET_S=${BUDGET_S:-450}
OUT=${OUT:-runs/device-out}
mkdir -p "$OUT"
[ -n "${SKIP_WHEELS:-}" ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH} KERAS_BACKEND=jax PYTHONUNBUFFERED=1 JAX_COMPILATION_CACHE_DIR=/tmp/jaxcache
export XLA_PYTHON_CLIENT_PREALLOCATE=false
python3 -c "import jax, keras; print('jax', jax.__version__, jax.devices(), 'keras', keras.__version__)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
lscpu | grep -E "Model name|^CPU\(s\)" || true
python3 tools/cifar_pack.py unpack .devdata --out /tmp/cifar-100-python
INIT_FROM=${INIT_FROM-cae_helpers/zoo/hyperprior}
RECIPE=(--data /tmp/cifar-100-python ${INIT_FROM:+--init-from "$INIT_FROM"} --large-patch "${LARGE_PATCH:-64}" --batch-size 256
        --learning-rate "${LEARNING_RATE:-1e-4}" --decay-at 0.8 --val-size 1000 --workers 8 --passes 4 ${ARCH:-})
FILTER=(grep --line-buffered -v "^WARNING\|^I0000")
t0=$(date +%s)
if [ -z "${EPOCHS:-}" ]; then
    # probe: 2 epochs on 3,000 images (the first compiles), to time a step; never a resume of an older probe
    rm -rf /tmp/probe
    python3 -m cae_helpers train-codec "${RECIPE[@]}" --smoke "${PROBE_SMOKE:-30}" --epochs 2 --out /tmp/probe 2>&1 | "${FILTER[@]}" | tee "$OUT/probe.log"
    read -r EPOCHS HOURS < <(python3 tools/device_epochs.py /tmp/probe/history.json "$BUDGET_S" "$t0" 14000)
else
    HOURS=$(python3 -c "print(round($BUDGET_S / 3600, 4))")  # epochs given (timed by an earlier run): no probe
fi
echo "epochs: $EPOCHS, time limit $HOURS h"
python3 -m cae_helpers train-codec "${RECIPE[@]}" --epochs "$EPOCHS" --time-limit "$HOURS" \
    ${MAIN_EXTRA:-} --out runs/device-finetune 2>&1 | "${FILTER[@]}" | tee "$OUT/train.log"
cp runs/device-finetune/{weights.npz,config.json,history.json} "$OUT/"
cp runs/device-finetune/backup/{state.json,settings.json} runs/device-finetune/backup/best*.npz "$OUT/"
echo "total $(( $(date +%s) - t0 )) s"
