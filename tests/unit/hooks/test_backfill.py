"""BackfillHook against a small HTTP server on loopback: the connection, its token, retries after a
5xx (waiting what ``Retry-After`` says), 4xx answers as errors, and what happens without a connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_backfill_provider.hooks.backfill import BackfillApiError, BackfillHook
from tests.unit.loopback import FakeBackfillApi, JsonHandler, backfill_api, serving


class _Busy(JsonHandler):
    answers: list[tuple[int, dict[str, str]]] = []
    seen: list[float] = []

    def do_GET(self) -> None:
        self.seen.append(time.monotonic())
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        self.answer(status, {"name": "p"} if status == 200 else {"error": {"code": "unavailable"}}, headers)


@pytest.fixture
def busy(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[_Busy]]:
    _Busy.answers, _Busy.seen = [], []
    with serving(_Busy) as url:
        monkeypatch.setenv("AIRFLOW_CONN_BACKFILL_BUSY", url.replace("http://", "backfill://"))
        yield _Busy


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeBackfillApi]]:
    with backfill_api(monkeypatch) as api:
        yield api


class _Log:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str, *args: Any) -> None:
        self.warnings.append(message % args)

    def info(self, message: str, *args: Any) -> None:
        pass


def test_a_busy_answer_is_asked_again_after_retry_after(busy: type[_Busy]):
    busy.answers = [(503, {"Retry-After": "0.4"}), (503, {"Retry-After": "0.4"})]
    hook = BackfillHook("backfill_busy", retries=3)
    assert hook.get_plan("p") == {"name": "p"}
    assert len(busy.seen) == 3
    gaps = [b - a for a, b in zip(busy.seen, busy.seen[1:], strict=False)]
    assert all(0.35 < gap < 0.9 for gap in gaps), gaps  # Retry-After, not the hook's own 1 s, 2 s


def test_a_server_that_stays_busy_is_an_error_after_the_retries(busy: type[_Busy]):
    busy.answers = [(503, {"Retry-After": "0"})] * 3
    with pytest.raises(BackfillApiError) as failed:
        BackfillHook("backfill_busy", retries=2).get_plan("p")
    assert failed.value.status_code == 503
    assert len(busy.seen) == 3


def test_the_connection_logs_in_once_and_sends_its_bearer_token(api: type[FakeBackfillApi]):
    hook = BackfillHook("backfill_fake")
    created = hook.create_plan({"dag_id": "d", "name": "p"})
    assert created["created"] is True and created["plan"]["name"] == "p"
    assert hook.get_plan("p")["state"] == "running"
    assert api.requests == [
        ("POST", "/auth/token", None),
        ("POST", "/backfill/api/v1/plans", "Bearer token-1"),
        ("GET", "/backfill/api/v1/plans/p", "Bearer token-1"),
    ]


def test_a_token_the_server_no_longer_takes_is_renewed_once(api: type[FakeBackfillApi]):
    hook = BackfillHook("backfill_fake")
    hook.create_plan({"dag_id": "d", "name": "p"})
    api.expired.add("token-1")
    assert hook.get_plan("p")["name"] == "p"
    assert [r[2] for r in api.requests if r[1].startswith("/backfill")] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


def test_a_refusal_is_an_error_with_the_fields_the_api_named(api: type[FakeBackfillApi]):
    with pytest.raises(BackfillApiError) as refused:
        BackfillHook("backfill_fake").create_plan({"name": "p"})
    assert refused.value.status_code == 400
    assert [(f.loc, f.msg) for f in refused.value.fields] == [("dag_id", "required")]
    with pytest.raises(BackfillApiError) as missing:
        BackfillHook("backfill_fake").get_plan("nope")
    assert missing.value.status_code == 404 and missing.value.code == "not_found"


def test_the_connection_forms_test_button(api: type[FakeBackfillApi], monkeypatch: pytest.MonkeyPatch):
    ok, message = BackfillHook("backfill_fake").test_connection()
    assert ok and "answered" in message
    with backfill_api(monkeypatch, "backfill_wrong", password="wrong"):
        ok, message = BackfillHook("backfill_wrong").test_connection()
    assert not ok and "401" in message


def test_without_the_connection_it_calls_the_api_base_url_anonymously_and_says_so(
    api: type[FakeBackfillApi], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", api.url)
    log = _Log()
    monkeypatch.setattr(BackfillHook, "log", property(lambda self: log))
    api.plans["p"] = {"name": "p", "state": "success"}
    assert BackfillHook("backfill_missing").get_plan("p")["state"] == "success"
    assert api.requests == [("GET", "/backfill/api/v1/plans/p", None)]  # no login, no token
    assert log.warnings == [
        f"no connection 'backfill_missing': calling {api.url} without credentials ([api] base_url)"
    ]


def test_any_other_error_reading_the_connection_is_raised(monkeypatch: pytest.MonkeyPatch):
    def secrets_down(conn_id: str) -> Any:
        raise RuntimeError("the secrets backend is down")

    monkeypatch.setattr(BackfillHook, "get_connection", staticmethod(secrets_down))
    with pytest.raises(RuntimeError, match="secrets backend is down"):
        BackfillHook("backfill_fake").get_plan("p")
