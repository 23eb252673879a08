#!/usr/bin/env bash
# Regenerate docs/reproduction/: run each preset's quick variant for real and write its report.
# Usage: scripts/reproduce.sh [PRESET ...]   (default: every preset that needs no download;
# CIFAR presets read IWLAB_DATASETS, e.g. IWLAB_DATASETS=../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
  mapfile -t presets < <(.venv/bin/python -c 'from worker.engine.presets import PRESETS; print("\n".join(n for n, p in PRESETS.items() if not p.needs))')
fi
for name in "${presets[@]}"; do
  .venv/bin/iwlab report --preset "$name" --quick --out "docs/reproduction/$name" || echo "$name: expected outcome NOT met" >&2
  rm -f "docs/reproduction/$name/metrics.csv"  # large; `iwlab run` regenerates it
done
