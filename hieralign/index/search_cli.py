"""`hieralign search`: query a line index by text or by line image.

    hieralign search --model runs/line_clip_small --index runs/line_index --text "བཀྲ་ཤིས" --top-k 5
    hieralign search --model runs/line_clip_small --image line.png --mode image2line --format json
"""

from __future__ import annotations

import argparse
import json
import sys

MODES = {"text2line": ("text", "lines"), "text2text": ("text", "texts"),
         "image2text": ("image", "texts"), "image2line": ("image", "lines")}


def format_table(hits: list[dict]) -> str:
    if not hits:
        return "(no results)"
    rows = [f"{'rank':>4}  {'score':>6}  {'split':<5}  {'style':<8}  {'source':<10}  path | text"]
    for h in hits:
        rows.append(f"{h['rank']:>4}  {h['score']:6.3f}  {h['split']:<5}  {h['style']:<8}  {h['source']:<10}  "
                    f"{h['path']} | {h['text']}")
    return "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    from hieralign.utils.argconfig import HelpFormatter

    p = argparse.ArgumentParser(prog="hieralign search", description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--model", required=True, help="line-CLIP output directory (hieralign train line)")
    p.add_argument("--index", default=None, help="index directory (hieralign index build); default: the model's faiss_embeddings")
    query = p.add_mutually_exclusive_group(required=True)
    query.add_argument("--text", default=None, help="text query")
    query.add_argument("--image", default=None, help="line image query (PNG/JPEG/...)")
    p.add_argument("--mode", choices=sorted(MODES), default=None, help="default: text2line for --text, image2text for --image")
    p.add_argument("--top-k", type=int, default=10, help="hits per result list")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    a = p.parse_args(argv)
    mode = a.mode or ("text2line" if a.text is not None else "image2text")
    needs, target = MODES[mode]
    if (needs == "text") != (a.text is not None):
        p.error(f"--mode {mode} needs --{needs}")
    from hieralign.index.search import LineSearcher

    searcher = LineSearcher.from_dir(a.model, a.index)
    if a.text is not None:
        results = searcher.search_text(a.text, a.top_k)
    else:
        from PIL import Image

        try:
            with Image.open(a.image) as im:
                im.load()
                results = searcher.search_image(im, a.top_k)
        except OSError as exc:
            print(f"hieralign search: cannot read image {a.image}: {exc}", file=sys.stderr)
            return 2
    hits = results[target]
    if a.format == "json":
        print(json.dumps({"mode": mode, "query": a.text if a.text is not None else a.image, "results": hits},
                         ensure_ascii=False, indent=2))
    else:
        print(f"{mode}: top {a.top_k}\n{format_table(hits)}")
    return 0
