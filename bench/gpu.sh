#!/usr/bin/env bash
# The CIFAR benchmark at full size on CUDA (issue 4), in under 5 minutes:
#   bench/gpu.sh OUTDIR
# 9 weights x 10,000 real cat/dog training images, batch 16, the paper's ConvNet (width 64): the
# per-run DataLoader loop vs the grouped engine, one epoch, median of 3, each epoch evaluated on the
# 10,000 CIFAR-10 test images (2,000 cat/dog + 8,000 of the other classes, as the paper's figures);
# and the projection of the paper's full sweep (9 weights x 1,000 epochs) from the batched epoch time.
# Writes OUTDIR/cifar_full.json and OUTDIR/gpu.txt (the GPU's name). DEVICE=cpu with SMALL=1 is a
# smoke test of the same path on tiny sizes.
set -euo pipefail
OUT=${1:?usage: bench/gpu.sh OUTDIR}
DEVICE=${DEVICE:-cuda}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
DATA=${IWLAB_TEST_CIFAR:-../shared/data/cifar10-jpeg.tar.gz}

if [ "$DEVICE" = cuda ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" || true
fi
if [ "${SMALL:-0}" = 1 ]; then
  SIZE=(--images 64 --test-images 32 --ood 32 --width 8 --repeats 1)
else
  SIZE=(--images 10000 --test-images 2000 --ood 8000 --width 64 --repeats 3)
fi
# 280 s: the budget is 5 minutes, a little of it for the start and the data (decoded once, cached)
PYTHONPATH=. timeout 280 "$PY" bench/cifar.py --device "$DEVICE" --data "$DATA" --epochs 1 --batch 16 \
  --project-epochs 1000 "${SIZE[@]}" --out "$OUT/cifar_full.json"
