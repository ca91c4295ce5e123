"""`hieralign transcribe IMAGES|MANIFEST`: read line images with the CTC line recogniser.

  hieralign transcribe scans/line_*.png
  hieralign transcribe data/lines/test.jsonl --format jsonl --beam 8 --lexicon > out.jsonl

Inputs are image files, folders of images, or JSONL manifests (their image paths resolve
against the manifest's folder; rows with a reference text also get their CER). Images are
read at 48 px height and their own width. `--lexicon` prefers syllables bospell knows (or
those of a file, one syllable per line); it implies beam search.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hieralign import defaults

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hieralign transcribe", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="image files, folders of images, or .jsonl manifests")
    p.add_argument("--model", help="line-OCR model folder (default: $HIERALIGN_LINE_OCR_MODEL, else the shipped line-ocr)")
    p.add_argument("--format", choices=("text", "jsonl"), default="text", help="one text per line, or JSON objects (default: text)")
    p.add_argument("--beam", type=int, default=1, help="beam width; 1 = greedy (default: 1)")
    p.add_argument("--lexicon", nargs="?", const="bospell", default=None,
                   help="prefer known syllables: 'bospell' (when given bare) or a file with one syllable per line")
    p.add_argument("--lexicon-bonus", type=float, default=1.0, help="log-score per known/unknown syllable (default: 1.0)")
    p.add_argument("--batch-size", type=int, default=32, help="lines per forward pass (default: 32)")
    p.add_argument("--out", help="write here instead of stdout")
    p.add_argument("--allow-outside", action="store_true",
                   help="let manifest image paths lead outside the manifest's dataset folder")
    return p


def collect_inputs(inputs: list[str], allow_outside: bool = False) -> list[dict]:
    """[{image: path, text?: reference}] from files, folders and manifests, in the given order."""
    from hieralign.data.lines.manifest import read_manifest

    items: list[dict] = []
    for raw in inputs:
        path = Path(raw)
        if path.suffix == ".jsonl":
            report = read_manifest(path, allow_outside=allow_outside)
            if report.missing or report.unreadable:
                print(f"{path}: {report.summary()}", file=sys.stderr)
                for problem in [*report.missing, *report.unreadable][:20]:
                    print(f"  skipped {problem}", file=sys.stderr)
            items += [{"image": str(r.resolve(path.parent)), "reference": r.text} for r in report.records]
        elif path.is_dir():
            items += [{"image": str(p)} for p in sorted(path.rglob("*")) if p.suffix.lower() in IMAGE_SUFFIXES]
        elif path.is_file():
            items.append({"image": str(path)})
        else:
            raise FileNotFoundError(f"no such image, folder or manifest: {raw}")
    if not items:
        raise FileNotFoundError(f"no images found in {' '.join(inputs)}")
    return items


def load_lexicon(spec: str | None, bonus: float):
    from hieralign.models.line.ctc_decode import Lexicon

    if spec is None:
        return None
    if spec == "bospell":
        from hieralign.knowledge.tibetan import syllable_lexicon

        return Lexicon(syllable_lexicon(), bonus)
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"--lexicon {spec}: not 'bospell' and no such file")
    return Lexicon(frozenset(s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()), bonus)


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    from hieralign.models.line.ctc_infer import load_line_recognizer, prepare, transcribe_arrays
    from hieralign.utils.progress import progress
    from hieralign.utils.text_metrics import error_rates

    items = collect_inputs(a.inputs, a.allow_outside)  # bad inputs fail before the model loads
    model = load_line_recognizer(defaults.line_ocr_model(a.model))
    lexicon = load_lexicon(a.lexicon, a.lexicon_bonus)
    bar = progress(total=len(items), desc="transcribing", unit="line")
    arrays = prepare([it["image"] for it in items], model.config.height)
    results = transcribe_arrays(model, arrays, a.beam, lexicon, a.batch_size, on_batch=bar.update)
    bar.close()
    out = open(a.out, "w", encoding="utf-8") if a.out else sys.stdout
    try:
        for item, result in zip(items, results):
            row = {**item, **result}
            if "reference" in item:
                row["cer"] = error_rates([item["reference"]], [result["text"]])["cer"]
            out.write(json.dumps(row, ensure_ascii=False) + "\n" if a.format == "jsonl" else result["text"] + "\n")
    finally:
        if a.out:
            out.close()
    return 0
