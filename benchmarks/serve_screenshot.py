"""Screenshot of the workbench for docs/img/workbench.png, driven in headless Debian chromium.

    python benchmarks/serve_screenshot.py [--model CKPT_OR_EXPORT] [--line-model DIR --index DIR --line-root DIR]

Without models it uses the tiny smoke-test models (hieralign.testing.tiny): the page is real, the
answers are those of a 16-class toy, so use trained models for a representative picture.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def services(args):
    from hieralign.serve.backends import CharService, LineService
    from hieralign.testing.tiny import build_tiny_line_model, cached_tiny_checkpoint

    if args.model:
        char = CharService.load(args.model, candidates=args.candidates)
    else:
        char = CharService.load(str(cached_tiny_checkpoint()), candidates="model")
    if args.line_model:
        line = LineService.load(args.line_model, args.index, args.line_root)
    else:
        model_dir, data = build_tiny_line_model(tempfile.mkdtemp(prefix="hieralign-line-"))
        line = LineService.load(str(model_dir), None, str(data))
    return char, line


def glyph_png(ch: str) -> bytes:
    """`ch` drawn by a training font, dark on white with a border, like a photographed sample."""
    from PIL import Image

    from hieralign.testing.tiny import render_set

    glyphs, _ = render_set(ch, ("IPAMincho",), 96, 12)
    buf = io.BytesIO()
    Image.fromarray(255 - glyphs[0]).save(buf, "PNG")
    return buf.getvalue()


def shoot(url: str, out: Path, char: str, query: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 860}, device_scale_factor=1)
        page.goto(url + "/")
        page.wait_for_selector("#status-char.ok", timeout=60_000)
        box = page.locator("#canvas").bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 70)
        page.mouse.down()
        for t in range(20):
            page.mouse.move(box["x"] + 60 + 7 * t, box["y"] + 70 + 2 * t)
        page.mouse.up()
        page.wait_for_selector("#char-results li.cand", timeout=60_000)
        with page.expect_response(lambda r: r.url.endswith("/v1/recognize"), timeout=60_000):
            page.set_input_files("#char-file", {"name": "sample.png", "mimeType": "image/png",
                                                "buffer": glyph_png(char)})
        page.wait_for_timeout(500)
        page.locator("#char-results li.cand").first.click()
        page.wait_for_selector("#char-detail:not([hidden])", timeout=60_000)
        page.fill("#text-query", query)
        page.click("#text-form button")
        page.wait_for_selector("#line-results li.line img[src^='blob:']", timeout=60_000)
        page.wait_for_timeout(500)
        page.screenshot(path=str(out), full_page=True)
        browser.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model")
    p.add_argument("--candidates", default="etl9g")
    p.add_argument("--line-model")
    p.add_argument("--index")
    p.add_argument("--line-root")
    p.add_argument("--char", default="愛", help="character whose rendered image is dropped on the page")
    p.add_argument("--query", default="བཀྲ་ཤིས་བདེ་ལེགས", help="text searched in the lines panel")
    p.add_argument("--out", default="docs/img/workbench.png")
    args = p.parse_args(argv)
    from hieralign.serve.app import create_app
    from hieralign.serve.config import ServeConfig
    from hieralign.testing.live import LiveServer

    char, line = services(args)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with LiveServer(create_app(ServeConfig(), char, line)) as server:
        shoot(server.url, Path(args.out), args.char, args.query)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
