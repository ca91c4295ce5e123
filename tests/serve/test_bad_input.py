"""Every catalogued bad request gets a 4xx with a message over a real socket; the server keeps serving."""

import httpx
import pytest

from hieralign.testing import badinput


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


def test_streamed_body_is_cut_off_while_reading(live_char_server):
    """Chunked body, no Content-Length: the 413 arrives while the body is still incomplete, i.e.
    the limit is enforced as bytes arrive, not after buffering the whole body."""
    import socket

    limit = live_char_server.cfg.max_body_bytes
    head = (b"POST /v1/recognize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"A" * 65536
    with socket.create_connection(("127.0.0.1", live_char_server.port), timeout=30) as sock:
        sock.sendall(head)
        for _ in range(limit // len(chunk) + 2):  # just past the limit; the final 0-chunk is never sent
            sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        answer = b""
        while b"exceeds" not in answer and (part := sock.recv(65536)):  # headers and body may come apart
            answer += part
    assert answer.startswith(b"HTTP/1.1 413") and b"exceeds" in answer
    ok = httpx.post(live_char_server.url + "/v1/recognize", timeout=60,
                    files={"images": ("g.png", badinput.glyph_png(), "image/png")})
    assert ok.status_code == 200
