"""Signatures: Ed25519, signed with the service's private key, verified with public keys only."""

from __future__ import annotations

import pytest

from airflow_backfill_provider import signing

CONTENT = {"plan": "p", "dry_run": ["a"], "task_params": {"b": {"x": 1}}}
OLD_PRIVATE, OLD_PUBLIC = signing.generate()
NEW_PRIVATE, NEW_PUBLIC = signing.generate()


def _host(monkeypatch: pytest.MonkeyPatch, private: str = "", public: str = "") -> None:
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY", private)
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS", public)


def test_a_signature_holds_for_exactly_its_dag_run_and_content(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    signature = signing.sign("dag", "run_1", CONTENT)
    _host(monkeypatch, public=OLD_PUBLIC)  # a worker: the public key only
    assert signing.verify("dag", "run_1", CONTENT, signature)
    assert not signing.verify("dag", "run_2", CONTENT, signature)
    assert not signing.verify("other", "run_1", CONTENT, signature)
    assert not signing.verify("dag", "run_1", {**CONTENT, "dry_run": ["a", "b"]}, signature)
    for forged in (None, "0" * 64, "", "!!!", "A" * 1000, 12):
        assert not signing.verify("dag", "run_1", CONTENT, forged)


def test_a_worker_with_only_public_keys_cannot_sign(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, public=OLD_PUBLIC)
    with pytest.raises(signing.SigningUnavailable, match="signing_private_key"):
        signing.sign("dag", "run_1", CONTENT)
    assert signing.unavailable_reason() is not None


def test_rotation_accepts_every_listed_key_and_no_other(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    old = signing.sign("dag", "run_1", CONTENT)
    _host(monkeypatch, private=NEW_PRIVATE)
    new = signing.sign("dag", "run_1", CONTENT)
    _host(monkeypatch, public=f"{NEW_PUBLIC}, {OLD_PUBLIC}")  # rotating: both listed
    assert signing.verify("dag", "run_1", CONTENT, old)
    assert signing.verify("dag", "run_1", CONTENT, new)
    _host(monkeypatch, public=NEW_PUBLIC)  # rotated: the old key's runs are refused
    assert not signing.verify("dag", "run_1", CONTENT, old)


def test_missing_or_bad_keys_are_clear_errors_not_fallbacks(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch)
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-jwt-secret")  # never used as a key
    with pytest.raises(signing.SigningUnavailable, match=r"python -m airflow_backfill_provider\.signing"):
        signing.check_configured()
    with pytest.raises(signing.SigningUnavailable, match="signing_public_keys"):
        signing.verify("dag", "run_1", CONTENT, "x")
    _host(monkeypatch, private="not-a-key")
    with pytest.raises(signing.SigningUnavailable, match="not an Ed25519 key"):
        signing.check_configured()


def test_the_service_host_verifies_with_its_own_public_key(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    assert signing.verify("dag", "run_1", CONTENT, signing.sign("dag", "run_1", CONTENT))
