"""BackfillHook asks again after a 5xx, waiting what the server's ``Retry-After`` says (a 503 while
its database is busy), against a small HTTP server on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from airflow_backfill_provider.hooks.backfill import BackfillApiError, BackfillHook


class _Busy(BaseHTTPRequestHandler):
    answers: list[tuple[int, dict[str, str]]] = []
    seen: list[float] = []

    def do_GET(self) -> None:
        self.seen.append(time.monotonic())
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        body = json.dumps({"name": "p"} if status == 200 else {"error": {"code": "unavailable"}}).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Busy]]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("AIRFLOW_CONN_BACKFILL_BUSY", f"backfill://127.0.0.1:{httpd.server_address[1]}")
    _Busy.answers, _Busy.seen = [], []
    yield _Busy
    httpd.shutdown()


def test_a_busy_answer_is_asked_again_after_retry_after(server: type[_Busy]):
    server.answers = [(503, {"Retry-After": "0.4"}), (503, {"Retry-After": "0.4"})]
    hook = BackfillHook("backfill_busy", retries=3)
    assert hook.get_plan("p") == {"name": "p"}
    assert len(server.seen) == 3
    gaps = [b - a for a, b in zip(server.seen, server.seen[1:], strict=False)]
    assert all(0.35 < gap < 0.9 for gap in gaps), gaps  # Retry-After, not the hook's own 1 s, 2 s


def test_a_server_that_stays_busy_is_an_error_after_the_retries(server: type[_Busy]):
    server.answers = [(503, {"Retry-After": "0"})] * 3
    with pytest.raises(BackfillApiError) as failed:
        BackfillHook("backfill_busy", retries=2).get_plan("p")
    assert failed.value.status_code == 503
    assert len(server.seen) == 3
