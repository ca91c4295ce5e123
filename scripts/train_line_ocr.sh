#!/usr/bin/env bash
# The one command that trains the shipped line-OCR model (`make line-ocr-model`), then measures it.
# Step budget, not wall time: 3,500 steps x 16 lines at ~1.0 s/step on 2 free cores (~60 min), plus
# ~3 min to render 16k training lines and build the line store. The shipped model was trained in two
# stages on one --out: a cosine schedule to 1,500 steps, then resumed with the schedule stretched to
# 3,500 (a warm restart); STAGES reproduces exactly that (each stage resumes the previous one). Then a
# fine-tune: 16k new lines (another seed, same training faces) and FT_STEPS=2,000 steps at lr 5e-4
# from that model (`--init-from`) under the stronger whole-batch augmentation (data/lines/augment.py:
# shear, baseline arc, stroke width, blur, uneven ink, specks) — ~46 min at ~1.4 s/step. The shipped
# model is $FT_OUT (FT_STEPS=0 skips the fine-tune and ships $OUT). Training faces only
# (`--train-only` refuses test-only faces); the benchmark renders its own held-out set.
# Tiny smoke run: DOCS=4 LINES=5 STEPS=5 FT_STEPS=5 BENCH_ARGS="--limit 20 --num-docs 2 --lines-per-doc 5 --no-tesseract" bash scripts/train_line_ocr.sh
set -euo pipefail
PY=${PY:-.venv/bin/python}
DATA=${DATA:-runs/line-ocr-data}
OUT=${OUT:-runs/line-ocr}
STAGES=${STAGES:-${STEPS:-1500 3500}}
DOCS=${DOCS:-400}
LINES=${LINES:-40}
FT_DATA=${FT_DATA:-$DATA-s1}
FT_OUT=${FT_OUT:-$OUT-ft}
FT_STEPS=${FT_STEPS:-2000}
BENCH_ARGS=${BENCH_ARGS:-}

"$PY" -m hieralign.cli data lines --out "$DATA" --num-docs "$DOCS" --lines-per-doc "$LINES" --train-only \
  --max-words 30 --split-fractions 0.95,0.05,0 --seed 0
for steps in $STAGES; do
  "$PY" -m hieralign.cli train line-ocr --data "$DATA" --out "$OUT" --max-steps "$steps" --batch-size 16 \
    --lr 1e-3 --warmup-steps 200 --checkpoint-every 500 --num-threads 2
done
FINAL=$OUT
if [ "$FT_STEPS" -gt 0 ]; then
  "$PY" -m hieralign.cli data lines --out "$FT_DATA" --num-docs "$DOCS" --lines-per-doc "$LINES" --train-only \
    --max-words 30 --split-fractions 0.95,0.05,0 --seed 1
  "$PY" -m hieralign.cli train line-ocr --data "$FT_DATA" --out "$FT_OUT" --init-from "$OUT" --max-steps "$FT_STEPS" \
    --batch-size 16 --lr 5e-4 --warmup-steps 100 --checkpoint-every 500 --num-threads 2
  FINAL=$FT_OUT
fi
REPORT=${REPORT:-$FINAL/benchmark.json}
# shellcheck disable=SC2086
"$PY" benchmarks/line_ocr.py --model "$FINAL" --work "$OUT/heldout" --out "$REPORT" $BENCH_ARGS
echo "model: $FINAL (copy to hieralign/assets/models/line-ocr to ship it); report: $REPORT"
