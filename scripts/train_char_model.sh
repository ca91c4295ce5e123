#!/usr/bin/env bash
# The one command that trains the shipped character model (`make char-model`), then measures it.
# 1. data build: the wide vocabulary (kana + CJK Unified + Ext A drawn by the TRAINING families,
#    reserved JIS level-2 kanji never; the class count is printed), printed + synthetic
#    handwriting + pen-drawn canvas strokes (both from KanjiVG, seen characters only);
# 2. train char: HierCode standard preset, protocol jis2-zs-wide, image<->image loss 0.5, the
#    degradation augmentations (on by default), validation with reference glyphs;
# 3. benchmarks/char_refglyphs.py on the result (reserved JIS-2 zero-shot, seen kanji, degraded).
# Step budget, not wall time: 6,000 steps x 256 glyphs. Measured 2026-12 (30 steps, nice 15, load
# average ~6 on the 2 cores): 138 glyphs/s wall, 190 glyphs per CPU-second -> ~320-500 glyphs/s on
# 2 free cores = 51-80 min of training, + ~3 min data build (~170k images with the default
# families), + the benchmark. MAX_MINUTES stops with a resumable checkpoint; re-running the same
# command continues (the data build is skipped when the store exists).
# Tiny smoke run: MAX_CLASSES=60 STEPS=4 HW=1 VAL=10 BENCH_ARGS="--limit 20" OUT=/tmp/cm bash scripts/train_char_model.sh
set -euo pipefail
PY=${PY:-.venv/bin/python}
OUT=${OUT:-runs/ship/char-hiercode}
DATA=${DATA:-$OUT-data}
STEPS=${STEPS:-6000}
MAX_MINUTES=${MAX_MINUTES:-80}
MAX_CLASSES=${MAX_CLASSES:-0}
HW=${HW:-2}
CANVAS=${CANVAS:-1}
VAL=${VAL:-200}
# Training families only (a test-only name here is refused); families not installed are skipped.
FONTS=${FONTS:-"IPA Gothic,IPA Mincho,VL Gothic,Sawarabi Gothic,Sawarabi Mincho,Motoya L Cedar,Motoya L Maru,Seto,Konatu,Aoyagi Kouzan T,BIZ UD Gothic,Kouzan Kaisho,Kouzan Sosho,Ume Gothic,Ume Mincho,Mona,AR PL UMing CN,AR PL UKai CN,AR PL SungtiL GB,AR PL KaitiM GB,Noto Sans CJK,Noto Serif CJK,IPAmjMincho,HanaMinA,HanaMinB,WenQuanYi Zen Hei"}
BENCH_ARGS=${BENCH_ARGS:---limit 300}

if [ ! -f "$DATA/meta.json" ]; then
  "$PY" -m hieralign.cli data build --charset wide --max-classes "$MAX_CLASSES" --role train \
    --styles printed,handwriting,canvas --fonts "$FONTS" --min-coverage 0.5 --hw-per-char "$HW" \
    --canvas-per-char "$CANVAS" --out "$DATA" --overwrite
fi
mkdir -p "$OUT"
"$PY" -m hieralign.cli train char --data "$DATA" --out "$OUT" --split jis2-zs-wide --preset standard \
  --val-classes "$VAL" --val-glyphs --image-loss-weight 0.5 --max-steps "$STEPS" --batch-size 256 --lr 2e-3 \
  --warmup-steps 300 --checkpoint-every 1000 --num-threads 2 --max-minutes "$MAX_MINUTES" --seed 0 \
  | tee "$OUT/train_stdout.txt"
if grep -q "^paused at step" "$OUT/train_stdout.txt"; then
  exit 0  # the time budget ran out: the same command continues from the newest checkpoint
fi
# shellcheck disable=SC2086
"$PY" benchmarks/char_refglyphs.py --model "$OUT/best.safetensors" --out "$OUT/benchmark" $BENCH_ARGS
echo "model: $OUT/best.safetensors (copy to hieralign/assets/models/char-hiercode/model.safetensors to ship it)"
