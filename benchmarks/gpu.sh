#!/usr/bin/env bash
# Every GPU check in one run, for a machine with an NVIDIA GPU (writes benchmarks/results/*-gpu.json):
#   bash benchmarks/gpu.sh [DEVICE]        # DEVICE: optix (default) or cuda
# 1. the render profile with Cycles on the GPU (images/s at 96/160/224 px against a bare Blender loop);
# 2. CPU and GPU renders of the same seed: labels and parameters identical, pixels close (mean abs diff);
# 3. the full ships4 study with `mode: finetune` on the GPU, its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICE="${1:-optix}"
PY="${PY:-.venv/bin/python}"
FEINT="${FEINT:-.venv/bin/feint}"
OUT=benchmarks/results
WORK="$(mktemp -d /tmp/feint-gpu.XXXXXX)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$WORK/gpu.txt"
"$PY" benchmarks/render_profile.py --device "$DEVICE" -n 48 -o "$OUT/render_profile-gpu.json"
"$FEINT" render marine -n 24 --size 224 --seed 0 --device cpu -o "$WORK/cpu" -q
"$FEINT" render marine -n 24 --size 224 --seed 0 --device "$DEVICE" -o "$WORK/gpu" -q
"$PY" benchmarks/compare_renders.py "$WORK/cpu" "$WORK/gpu" -o "$OUT/render_devices.json"
start=$(date +%s)
"$FEINT" study run examples/studies/ships4-finetune.yaml --device "$DEVICE" -o "$WORK/ships4-finetune" \
  --cache "$WORK/cache" -q
end=$(date +%s)
printf '{"study": "ships4-finetune", "device": "%s", "gpu": "%s", "wall_seconds": %d}\n' \
  "$DEVICE" "$(head -1 "$WORK/gpu.txt")" $((end - start)) > "$OUT/study-gpu.json"
cp "$WORK/ships4-finetune/summary.json" "$OUT/study-gpu-summary.json"
cat "$OUT/study-gpu.json"
