"""The service's signatures: valid only for the same content in the same run, and only with the secret."""

from __future__ import annotations

import pytest

from airflow_backfill_provider import signing


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_KEY", "unit-test-secret")


CONTENT = {"plan": "p", "dry_run": ["b"], "task_params": {"load": {"table": "t"}}}


def test_a_signature_holds_for_its_run_and_content_only():
    signature = signing.sign("dag", "run_1", CONTENT)
    assert signing.verify("dag", "run_1", CONTENT, signature)
    assert not signing.verify("dag", "run_2", CONTENT, signature)
    assert not signing.verify("other", "run_1", CONTENT, signature)
    assert not signing.verify(
        "dag", "run_1", {**CONTENT, "task_params": {"load": {"table": "evil"}}}, signature
    )
    assert not signing.verify("dag", "run_1", CONTENT, None)
    assert not signing.verify("dag", "run_1", CONTENT, "0" * 64)


def test_another_secret_signs_differently(monkeypatch: pytest.MonkeyPatch):
    signature = signing.sign("dag", "run_1", CONTENT)
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_KEY", "another-secret")
    assert not signing.verify("dag", "run_1", CONTENT, signature)


def test_without_any_secret_nothing_verifies(monkeypatch: pytest.MonkeyPatch):
    signature = signing.sign("dag", "run_1", CONTENT)
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_KEY", "")
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "")
    assert not signing.available()
    assert not signing.verify("dag", "run_1", CONTENT, signature)
    with pytest.raises(signing.SigningUnavailable):
        signing.sign("dag", "run_1", CONTENT)
