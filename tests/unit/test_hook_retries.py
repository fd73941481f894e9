"""BackfillHook asks again after a 5xx, waiting what the server's ``Retry-After`` says (a 503 while
its database is busy), against a small HTTP server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from airflow_backfill_provider.hooks.backfill import BackfillApiError, BackfillHook
from tests.unit.loopback import JsonHandler, serving


class _Busy(JsonHandler):
    answers: list[tuple[int, dict[str, str]]] = []
    seen: list[float] = []

    def do_GET(self) -> None:
        self.seen.append(time.monotonic())
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        self.answer(status, {"name": "p"} if status == 200 else {"error": {"code": "unavailable"}}, headers)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Busy]]:
    _Busy.answers, _Busy.seen = [], []
    with serving(_Busy) as url:
        monkeypatch.setenv("AIRFLOW_CONN_BACKFILL_BUSY", url.replace("http://", "backfill://"))
        yield _Busy


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
