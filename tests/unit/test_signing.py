"""Signatures: Ed25519, signed with the service's private key, verified with public keys only, bound
to one run as Airflow records it, over a canonical form of the content."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from airflow_backfill_provider import signing
from airflow_backfill_provider.signing import RunBinding

CONTENT = {"plan": "p", "dry_run": ["a"], "task_params": {"b": {"x": 1}}, "nonce": "00ff"}
RUN = RunBinding("dag", "run_1", "2024-01-01T00:00:00.000000Z", "backfill")
OLD_PRIVATE, OLD_PUBLIC = signing.generate()
NEW_PRIVATE, NEW_PUBLIC = signing.generate()


def _host(monkeypatch: pytest.MonkeyPatch, private: str = "", public: str = "") -> None:
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY", private)
    monkeypatch.setenv("AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS", public)


def test_a_signature_holds_for_exactly_its_run_and_content(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    signature = signing.sign(RUN, CONTENT)
    _host(monkeypatch, public=OLD_PUBLIC)  # a worker: the public key only
    assert signing.verify(RUN, CONTENT, signature)
    for other in (
        RunBinding("dag", "run_2", RUN.logical_date, "backfill"),
        RunBinding("other", "run_1", RUN.logical_date, "backfill"),
        # the same run id re-made by hand: another logical date, or a manual run
        RunBinding("dag", "run_1", "2024-02-01T00:00:00.000000Z", "backfill"),
        RunBinding("dag", "run_1", RUN.logical_date, "manual"),
    ):
        assert not signing.verify(other, CONTENT, signature), other
    assert not signing.verify(RUN, {**CONTENT, "dry_run": ["a", "b"]}, signature)
    assert not signing.verify(RUN, {**CONTENT, "nonce": "00fe"}, signature)
    for forged in (None, "0" * 64, "", "!!!", "A" * 1000, 12):
        assert not signing.verify(RUN, CONTENT, forged)


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (1e16, 10_000_000_000_000_000),  # PostgreSQL's JSONB writes it without the exponent
        (-0.0, 0.0),  # JSONB has no negative zero
        (1.5e300, int("15" + "0" * 299)),
        (2, 2.0),
        (0.1, 0.1),
        (10**400, 10**400),  # beyond a float: kept as digits
    ],
)
def test_what_the_database_gives_back_for_a_number_still_verifies(
    monkeypatch: pytest.MonkeyPatch, sent: object, stored: object
):
    _host(monkeypatch, private=OLD_PRIVATE)
    content = {**CONTENT, "task_params": {"b": {"x": sent}}}
    signature = signing.sign(RUN, json.loads(json.dumps(content)))
    assert signing.verify(RUN, {**CONTENT, "task_params": {"b": {"x": stored}}}, signature)
    assert not signing.verify(RUN, {**CONTENT, "task_params": {"b": {"x": "1e16"}}}, signature)


def test_a_binding_reads_a_run_as_airflow_records_it():
    class Run:
        dag_id, run_id, run_type = "dag", "run_1", "backfill"
        logical_date = dt.datetime(2024, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    assert RunBinding.of(Run()) == RUN
    naive = type("Naive", (Run,), {"logical_date": dt.datetime(2024, 1, 1)})
    assert RunBinding.of(naive()) == RUN


def test_a_worker_with_only_public_keys_cannot_sign(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, public=OLD_PUBLIC)
    with pytest.raises(signing.SigningUnavailable, match="signing_private_key"):
        signing.sign(RUN, CONTENT)
    assert signing.unavailable_reason() is not None


def test_rotation_accepts_every_listed_key_and_no_other(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    old = signing.sign(RUN, CONTENT)
    _host(monkeypatch, private=NEW_PRIVATE)
    new = signing.sign(RUN, CONTENT)
    _host(monkeypatch, public=f"{NEW_PUBLIC}, {OLD_PUBLIC}")  # rotating: both listed
    assert signing.verify(RUN, CONTENT, old)
    assert signing.verify(RUN, CONTENT, new)
    _host(monkeypatch, public=NEW_PUBLIC)  # rotated: the old key's runs are refused
    assert not signing.verify(RUN, CONTENT, old)


def test_missing_or_bad_keys_are_clear_errors_not_fallbacks(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch)
    monkeypatch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "a-jwt-secret")  # never used as a key
    with pytest.raises(signing.SigningUnavailable, match=r"python -m airflow_backfill_provider\.signing"):
        signing.check_configured()
    with pytest.raises(signing.SigningUnavailable, match="signing_public_keys"):
        signing.verify(RUN, CONTENT, "x")
    _host(monkeypatch, private="not-a-key")
    with pytest.raises(signing.SigningUnavailable, match="not an Ed25519 key"):
        signing.check_configured()


def test_the_service_host_verifies_with_its_own_public_key(monkeypatch: pytest.MonkeyPatch):
    _host(monkeypatch, private=OLD_PRIVATE)
    assert signing.verify(RUN, CONTENT, signing.sign(RUN, CONTENT))
