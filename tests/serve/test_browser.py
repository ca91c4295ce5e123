"""End to end in a real headless browser (Debian chromium via Playwright): draw, recognise, search."""

import shutil
from pathlib import Path

import pytest

from hieralign.testing.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                 reason="Debian chromium not installed (apt-packages.txt lists it)")]


@pytest.fixture(scope="module")
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield page
        browser.close()


@pytest.fixture(scope="module")
def workbench_server(char_service, line_service):
    from hieralign.serve.app import create_app
    from hieralign.serve.config import ServeConfig

    with LiveServer(create_app(ServeConfig(), char_service, line_service)) as server:
        server.line_root = line_service.roots[0]
        yield server


def _draw_cross(page):
    box = page.locator("#canvas").bounding_box()
    x0, y0, w, h = box["x"], box["y"], box["width"], box["height"]
    for (ax, ay), (bx, by) in [((0.2, 0.3), (0.8, 0.3)), ((0.5, 0.15), (0.5, 0.85)), ((0.25, 0.7), (0.75, 0.7))]:
        page.mouse.move(x0 + ax * w, y0 + ay * h)
        page.mouse.down()
        for t in range(1, 11):
            page.mouse.move(x0 + (ax + (bx - ax) * t / 10) * w, y0 + (ay + (by - ay) * t / 10) * h)
        page.mouse.up()


def test_draw_recognise_and_search_tibetan(browser_page, workbench_server, tmp_path):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(workbench_server.url + "/")
    page.wait_for_selector("#status-char.ok", timeout=30_000)
    _draw_cross(page)
    page.wait_for_selector("#char-results li.cand", timeout=60_000)
    cands = page.locator("#char-results li.cand")
    assert cands.count() == 5
    first = cands.first.get_attribute("data-char")
    assert first and len(first) == 1
    assert page.locator("#char-results .tree").count() >= 1  # each candidate's IDS tree is drawn
    cands.first.click()
    page.wait_for_selector("#char-detail:not([hidden])", timeout=30_000)

    page.fill("#text-query", "བཀྲ་ཤིས་བདེ་ལེགས")
    page.click("#text-form button")
    page.wait_for_selector("#line-results li.line img[src^='blob:']", timeout=60_000)
    assert page.locator("#line-results li.line").count() >= 1
    assert page.locator("#line-error").is_hidden()
    line_png = next(workbench_server.line_root.rglob("*.png"))
    page.set_input_files("#line-file", str(line_png))  # a line image -> its nearest transcriptions
    page.wait_for_selector("#text-results li", timeout=60_000)
    assert page.locator("#line-query img").count() == 1
    page.screenshot(path=str(tmp_path / "workbench.png"), full_page=True)
    assert (tmp_path / "workbench.png").stat().st_size > 10_000
    assert not errors, errors


@pytest.fixture(scope="module")
def ocr_workbench(ocr_service):
    from hieralign.serve.app import create_app
    from hieralign.serve.config import ServeConfig

    with LiveServer(create_app(ServeConfig(), None, ocr_service)) as server:
        yield server


def test_line_ocr_workbench_shows_the_transcription_and_the_matched_span(browser_page, ocr_workbench, ocr_service):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(ocr_workbench.url + "/")
    page.wait_for_selector("#status-line.ok", timeout=30_000)
    texts = ocr_service.searcher.index.texts
    page.set_input_files("#line-file", ocr_service.searcher.rows[0]["image"])  # a dropped line -> its reading
    page.wait_for_selector("#line-query .transcription", timeout=60_000)
    assert page.locator("#line-query .transcription").inner_text() == texts[0]
    query = max(texts, key=len)[1:-1]
    page.fill("#text-query", query)
    page.click("#text-form button")
    page.wait_for_selector("#line-results li.line mark.span", timeout=60_000)
    assert page.locator("#line-results li.line mark.span").first.inner_text() == query
    assert not errors, errors
