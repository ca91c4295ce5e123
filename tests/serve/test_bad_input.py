"""Every catalogued bad request gets a 4xx with a message over a real socket; the server keeps serving."""

import httpx
import pytest

from hieralign.serve import badinput


def test_every_bad_input_is_a_4xx_and_the_next_good_request_works(live_char_server):
    cfg = live_char_server.cfg
    cases = badinput.cases(cfg.max_body_bytes, cfg.max_text_chars)
    assert len(cases) >= 12
    method, path, good = badinput.good_request()
    with httpx.Client(base_url=live_char_server.url, timeout=60) as client:
        for case in cases:
            status, detail = badinput.send(client, case)
            assert status is not None and 400 <= status < 500, (case.name, status, detail[:200])
            assert len(detail) > 5, case.name
            ok = client.request(method, path, **good)
            assert ok.status_code == 200, (case.name, ok.text[:200])
            assert ok.json()["results"][0], case.name


@pytest.mark.parametrize("name", ["huge JSON body", "lying Content-Length"])
def test_body_limit_is_413(live_char_server, name):
    cfg = live_char_server.cfg
    case = next(c for c in badinput.cases(cfg.max_body_bytes, cfg.max_text_chars) if c.name == name)
    with httpx.Client(base_url=live_char_server.url, timeout=60) as client:
        status, detail = badinput.send(client, case)
    assert status == 413 and "exceeds" in detail
