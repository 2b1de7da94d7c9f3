#!/usr/bin/env bash
# Every GPU check in one run, for a machine with an NVIDIA GPU (writes benchmarks/results/*-gpu.json):
#   bash benchmarks/gpu.sh [DEVICE]        # DEVICE: optix (default) or cuda
# 1. the render profile with Cycles on the GPU (images/s at 96/160/224 px against a bare Blender loop);
# 2. CPU and GPU renders of the same seed: labels and parameters identical, pixels close (mean abs diff);
# 3. the full ships4 study with `mode: finetune` on the GPU, its wall time;
# 4. the bottles detectors of docs/detection.md on the GPU: 1,200 renders, Faster R-CNN 12 epochs and
#    yolo11n 100 epochs with `--device cuda`, their training times and test mAP.
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

# 4. bottles detection on the GPU (the docs' commands with --device cuda), timed
"$FEINT" render bottles -n 1200 --size 320 --seed 0 --device "$DEVICE" -o "$WORK/bottles" -q
"$FEINT" data split "$WORK/bottles" -o "$WORK/bottles-split" --ratios 0.8,0.1,0.1 --seed 0 > /dev/null
for model in fasterrcnn yolo11n.yaml; do
  epochs=12; batch=4
  if [ "$model" = yolo11n.yaml ]; then epochs=100; batch=16; fi
  start=$(date +%s)
  "$FEINT" detect train "$WORK/bottles-split" --model "$model" --size 320 --batch $batch --epochs $epochs \
    --device cuda -o "$WORK/det-$model" -q
  end=$(date +%s)
  "$FEINT" detect eval "$WORK/det-$model" "$WORK/bottles-split" --split test -o "$WORK/eval-$model" -q
  "$PY" -c "import json, sys; m = json.load(open(sys.argv[1])); print(json.dumps({'model': sys.argv[2], \
'epochs': $epochs, 'train_seconds': $((end - start)), 'gpu': sys.argv[3], 'test_map50': m['map50'], \
'test_map': m['map']}))" "$WORK/eval-$model/metrics.json" "$model" "$(head -1 "$WORK/gpu.txt")"
done | tee "$OUT/detect-gpu.jsonl"
