"""Every catalogued bad request gets a 4xx with a message over a real socket; the server keeps serving."""

import httpx
import pytest

from hieralign.serve import badinput


def test_every_bad_input_is_a_4xx_and_the_next_good_request_works(live_char_server):
    cfg = live_char_server.cfg
    cases = [c for c in badinput.cases(cfg.max_body_bytes, cfg.max_text_chars)]
    assert len(cases) >= 12
    method, path, good = badinput.good_request()
    with httpx.Client(base_url=live_char_server.url, timeout=60) as client:
        for case in cases:
            response = client.request(case.method, case.path, **case.build())
            assert 400 <= response.status_code < 500, (case.name, response.status_code, response.text[:200])
            if case.needs == "line":  # no line model here: validation runs first, then 503 for a valid query
                assert response.status_code != 503, case.name
            detail = response.json()["detail"]
            assert detail and len(str(detail)) > 5, case.name
            ok = client.request(method, path, **good)
            assert ok.status_code == 200, (case.name, ok.text[:200])
            assert ok.json()["results"][0], case.name


@pytest.mark.parametrize("name", ["huge JSON body", "lying Content-Length"])
def test_body_limit_is_413(live_char_server, name):
    cfg = live_char_server.cfg
    case = next(c for c in badinput.cases(cfg.max_body_bytes, cfg.max_text_chars) if c.name == name)
    response = httpx.request(case.method, live_char_server.url + case.path, timeout=60, **case.build())
    assert response.status_code == 413 and "exceeds" in response.json()["detail"]
