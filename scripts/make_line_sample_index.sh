#!/usr/bin/env bash
# Build the sample index shipped next to the line-OCR model (after `scripts/train_line_ocr.sh` and
# copying runs/line-ocr to hieralign/assets/models/line-ocr). Renders a small held-out set (test
# documents only: print, degraded and cursive in training faces, plus one document per test-only
# face), transcribes it once with the shipped model and writes a self-contained index (images
# copied in) to <model>/index, which `hieralign search`, `serve` and `demo` use by default.
# ~100 lines: a few seconds to render and index on 2 cores, ~1-2 MB on disk.
# Tiny check: MODEL=runs/line-ocr DOCS=2 LINES=3 bash scripts/make_line_sample_index.sh
set -euo pipefail
PY=${PY:-.venv/bin/python}
MODEL=${MODEL:-hieralign/assets/models/line-ocr}
DATA=${DATA:-runs/line-sample-data}
DOCS=${DOCS:-6}
LINES=${LINES:-8}
OUT=${OUT:-$MODEL/index}

rm -rf "$DATA" "$OUT"
"$PY" -m hieralign.cli data lines --out "$DATA" --num-docs "$DOCS" --lines-per-doc "$LINES" \
  --split-fractions 0,0,1 --test-docs-per-face 1 --min-words 2 --max-words 12 --seed 11
"$PY" -m hieralign.cli index build --model "$MODEL" --manifest "$DATA/test.jsonl" --out "$OUT" --copy-images
# the index records absolute paths of this checkout (manifest, model folder): ship them relative
"$PY" - "$OUT" <<'PYEOF'
import os, pathlib, sys
root = os.getcwd().rstrip("/") + "/"
for name in ("index.json", "lines.jsonl"):
    path = pathlib.Path(sys.argv[1]) / name
    path.write_text(path.read_text(encoding="utf-8").replace(root, ""), encoding="utf-8")
PYEOF
du -sh "$OUT"
"$PY" -m hieralign.cli search --model "$MODEL" --index "$OUT" --text "བཀྲ་ཤིས" --top-k 3
