"""`hieralign search`: query a line index by text or by line image.

    hieralign search --text "བཀྲ་ཤིས"                       # shipped line-OCR model + its sample index
    hieralign search --model runs/line-ocr --index runs/ocr_index --text "བཀྲ་ཤིས" --top-k 5
    hieralign search --model runs/line-ocr --index runs/ocr_index --image line.png   # decode, nearest texts
    hieralign search --model runs/line_clip_small --index runs/line_index --image line.png --mode image2line

With a line-OCR (CTC) model, a text query runs the hybrid: the transcription index's n-gram
first stage, then a rerank by the CTC likelihood of the query under each candidate line; each
hit shows the matched span of its transcription. An image query is decoded, then matched
against the indexed transcriptions. With a line-CLIP model, both go through the embeddings.
The index records the model that built it; another model is refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

MODES = {"text2line": ("text", "lines"), "text2text": ("text", "texts"),
         "image2text": ("image", "texts"), "image2line": ("image", "lines")}


def _highlight(text: str, span: list[int] | None) -> str:
    if not span:
        return text
    return f"{text[:span[0]]}[{text[span[0]:span[1]]}]{text[span[1]:]}"


def format_table(hits: list[dict]) -> str:
    if not hits:
        return "(no results)"
    rows = [f"{'rank':>4}  {'score':>8}  {'split':<5}  {'style':<8}  {'source':<10}  path | text"]
    for h in hits:
        score = "" if h.get("score") is None else f"{h['score']:8.3f}"
        rows.append(f"{h['rank']:>4}  {score:>8}  {h.get('split', ''):<5}  {h.get('style', ''):<8}  "
                    f"{h.get('source', ''):<10}  {h.get('path', '')} | {_highlight(h['text'], h.get('span'))}")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    from hieralign.utils.argconfig import HelpFormatter

    p = argparse.ArgumentParser(prog="hieralign search", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", default=None, help="line-OCR model folder or line-CLIP output directory "
                   "(default: the model recorded in --index, else the shipped line-OCR model)")
    p.add_argument("--index", default=None, help="index directory (hieralign index build); default: the "
                   "line-OCR model's index/ folder, or a line-CLIP model's faiss_embeddings")
    query = p.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", default=None, help="text query")
    query.add_argument("--image", default=None, help="line image query (PNG/JPEG/...)")
    p.add_argument("--mode", choices=sorted(MODES), default=None, help="default: text2line for --text, image2text for --image")
    p.add_argument("--top-k", type=int, default=10, help="hits per result list")
    p.add_argument("--rerank", type=int, default=10, help="line-OCR: first-stage candidates reranked by CTC likelihood "
                   "(at least --top-k are)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    return p


def resolve_target(model: str | None, index: str | None) -> tuple[str, str | None]:
    """(model dir, index dir or None) from what the user gave, the index's record, or the shipped models."""
    from hieralign import defaults

    if model is None and index is not None:
        card = Path(index) / "index.json"
        recorded = json.loads(card.read_text(encoding="utf-8")).get("model_dir", "") if card.is_file() else ""
        if recorded and Path(recorded).exists():
            return recorded, index
    if model is None:
        shipped = defaults.shipped_line_ocr()
        if shipped is None:
            raise FileNotFoundError("no --model given and no line-OCR model ships with this install: pass "
                                    "--model (hieralign train line-ocr) and --index (hieralign index build)")
        return str(shipped[0]), index or (str(shipped[1]) if shipped[1] else None)
    if not Path(model).exists():
        raise FileNotFoundError(f"model not found: {model}")
    return model, index


def load_searcher(model: str | None, index: str | None):
    from hieralign.index.ocr_index import is_ctc_model

    model_dir, index_dir = resolve_target(model, index)
    if is_ctc_model(model_dir):
        from hieralign.index.ocr_search import OcrSearcher

        return OcrSearcher.from_dir(model_dir, index_dir)
    from hieralign.index.ocr_index import INDEX_FORMAT, index_format

    if index_dir is not None and index_format(index_dir) == INDEX_FORMAT:
        from hieralign.errors import UserError

        raise UserError(f"{index_dir} is a transcription index (line-OCR); {model_dir} is a line-CLIP model")
    from hieralign.index.search import LineSearcher

    return LineSearcher.from_dir(model_dir, index_dir)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    if a.top_k < 1:
        p.error("--top-k must be >= 1")
    mode = a.mode or ("text2line" if a.text is not None else "image2text")
    needs, target = MODES[mode]
    if (needs == "text") != (a.text is not None):
        p.error(f"--mode {mode} needs --{needs}")
    searcher = load_searcher(a.model, a.index)
    extra = {"rerank": a.rerank} if hasattr(searcher, "hybrid") else {}
    if a.text is not None:
        results = searcher.search_text(a.text, a.top_k, **extra)
    else:
        from PIL import Image

        try:
            with Image.open(a.image) as im:
                im.load()
                results = searcher.search_image(im.convert("L") if extra else im, a.top_k)
        except OSError as exc:
            print(f"hieralign search: cannot read image {a.image}: {exc}", file=sys.stderr)
            return 2
    hits = results.get(target, [])
    if mode == "text2text" and not hits and "lines" in results:
        hits = results["lines"]  # a transcription index answers text2text with its lines' transcriptions
    if a.format == "json":
        out = {"mode": mode, "query": a.text if a.text is not None else a.image, "results": hits}
        if "transcription" in results:
            out["transcription"] = results["transcription"]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        if "transcription" in results:
            print(f"transcription: {results['transcription']['text']}")
        print(f"{mode}: top {a.top_k}\n{format_table(hits)}")
    return 0
