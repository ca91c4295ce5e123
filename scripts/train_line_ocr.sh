#!/usr/bin/env bash
# The one command that trains the shipped line-OCR model (`make line-ocr-model`), then measures it.
# Step budget, not wall time: 3,500 steps x 16 lines ~ 0.8-1.0 s/step on 2 free cores (~50-60 min),
# plus ~3 min to render 16k training lines and build the line store. Training faces only
# (`--train-only` refuses test-only faces); the benchmark renders its own held-out set.
# Tiny smoke run: DOCS=4 LINES=5 STEPS=5 BENCH_ARGS="--limit 20 --num-docs 2 --lines-per-doc 5 --no-tesseract" bash scripts/train_line_ocr.sh
set -euo pipefail
PY=${PY:-.venv/bin/python}
DATA=${DATA:-runs/line-ocr-data}
OUT=${OUT:-runs/line-ocr}
STEPS=${STEPS:-3500}
DOCS=${DOCS:-400}
LINES=${LINES:-40}
REPORT=${REPORT:-$OUT/benchmark.json}
BENCH_ARGS=${BENCH_ARGS:-}

"$PY" -m hieralign.cli data lines --out "$DATA" --num-docs "$DOCS" --lines-per-doc "$LINES" --train-only \
  --max-words 30 --split-fractions 0.95,0.05,0 --seed 0
"$PY" -m hieralign.cli train line-ocr --data "$DATA" --out "$OUT" --max-steps "$STEPS" --batch-size 16 \
  --lr 1e-3 --warmup-steps 200 --checkpoint-every 500 --num-threads 2
# shellcheck disable=SC2086
"$PY" benchmarks/line_ocr.py --model "$OUT" --work "$OUT/heldout" --out "$REPORT" $BENCH_ARGS
echo "model: $OUT (copy to hieralign/assets/models/line-ocr to ship it); report: $REPORT"
