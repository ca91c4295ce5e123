"""Bad-input benchmark: every catalogued malformed/hostile request must get a 4xx with a message,
and the server must answer the next good request.

    python benchmarks/serve_bad_input.py                 # starts a server with a tiny model
    python benchmarks/serve_bad_input.py --url http://127.0.0.1:8000 --token T

The catalogue is `hieralign.testing.badinput.cases` (the unit test runs the same list).
Writes docs/benchmarks/serve_bad_input.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from serve_common import machine, require_loopback, server  # noqa: E402


def run_cases(url: str, token: str | None) -> dict:
    import httpx

    from hieralign.testing import badinput

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url, timeout=120, headers=headers) as client:
        info = client.get("/v1/info").json()
        health = client.get("/healthz").json()
        limits = info["limits"]
        rows = []
        for case in badinput.cases(limits["max_body_bytes"], limits["max_text_chars"]):
            start = time.perf_counter()
            try:
                status, detail = badinput.send(client, case)
                detail = detail[:160]
            except (httpx.HTTPError, ValueError) as exc:
                status, detail = None, f"client error: {exc!r}"[:160]
            ms = (time.perf_counter() - start) * 1000
            method, path, good = badinput.good_request()
            next_ok = client.request(method, path, **good).status_code == 200
            loaded = health["line_model"] if case.needs == "line" else True
            passed = status is not None and 400 <= status < 500 and bool(detail) and next_ok
            rows.append({"case": case.name, "status": status, "ms": round(ms, 1), "detail": detail,
                         "next_good_request_ok": next_ok, "pass": passed, "model_loaded": loaded})
    return {"cases": rows, "passed": sum(r["pass"] for r in rows), "total": len(rows)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running loopback server (default: start one)")
    p.add_argument("--model", help="checkpoint or export dir for the started server (default: a tiny model)")
    p.add_argument("--token")
    p.add_argument("--out", default="docs/benchmarks/serve_bad_input.json")
    args = p.parse_args(argv)
    if args.url:
        result = run_cases(require_loopback(args.url), args.token)
    else:
        with server(args.model, ["--max-body-mb", "2"]) as url:
            result = run_cases(url, args.token)
    width = max(len(r["case"]) for r in result["cases"])
    for r in result["cases"]:
        mark = "ok  " if r["pass"] else "FAIL"
        print(f"{mark} {r['case'].ljust(width)}  {r['status']}  {r['ms']:7.1f} ms  {r['detail'][:70]}")
    print(f"{result['passed']}/{result['total']} bad inputs answered 4xx with a message; server kept serving")
    report = {"machine": machine(), **result}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0 if result["passed"] == result["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
