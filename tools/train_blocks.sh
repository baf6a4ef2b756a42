#!/usr/bin/env bash
# Blocks added to the default (hyperprior-exact's network) and trained alone on the coded path (`--tune-encoder
# --tune-blocks-only`: every weight and table the codec ships stays; each block starts as the identity, so a run starts
# at exactly the shipped codec): two residual blocks of 128 channels, in the encoder (SIDE encoder: in g_a at H/4 x W/4,
# before its output; encoder capacity the bytes' decoder never sees) or in the decoder (SIDE decoder: in g_s at
# H/2 x W/2, before its output; decoder capacity at the default's bytes, so only the distortion can fall).
# Float32 (the tune-encoder probe's bfloat16 runs cost 0.006-0.008 of the objective), 20 epochs at 1e-4, tenfold lower
# from 70 %, every other batch as 64x64 patches, continuous levels (the default's last recipe). Into runs/SIDE-blocks;
# resumable: the same command goes on where a sitting stopped.
#   encoder: forty-seventh session, 28,140 steps, 1.52 h on 2 AMD EPYC Zen 4 cores: no gain in real bytes
#            (results/encoder-blocks/README.md, record in weights/encoder-blocks-checkpoint/)
#   decoder: forty-eighth session (results/decoder-blocks/README.md, record in weights/decoder-blocks-checkpoint/)
#   CIFAR100_PATH=/path/to/cifar-100-python.tar.gz bash tools/train_blocks.sh encoder|decoder [HOURS]
set -euo pipefail
case "${1:-}" in
  encoder|decoder) side=$1 ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
cd "$(dirname "$0")/.."
python -m cae_helpers train-codec --data "${CIFAR100_PATH:?set CIFAR100_PATH to the CIFAR-100 archive}" \
  --out "runs/$side-blocks" --init-from cae_helpers/zoo/hyperprior-exact --coded-channels 40 --continuous-levels \
  --large-patch 64 --tune-encoder "--$side-blocks" 2 --tune-blocks-only --epochs 20 --decay-at 0.7 \
  --learning-rate 1e-4 --precision float32 --time-limit "${2:-0}"
