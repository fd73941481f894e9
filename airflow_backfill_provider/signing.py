"""Signatures on what the service writes into runs, checked where tasks run.

A lot run's conf carries the plan's ``task_params`` and dry-run tasks under a reserved key, and a
notify run's conf names notifiers to import. Anyone who may trigger a DAG can put any conf in a run,
so workers act on those keys only when the service's signature over (DAG, run, content) is valid:
a conf copied into another run, or written by hand, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from airflow_backfill_provider import settings

_CONTEXT = b"airflow-backfill-provider/signature/v1"


class SigningUnavailable(RuntimeError):
    """No secret is configured here: neither ``[backfill] signing_key`` nor ``[api_auth] jwt_secret``."""


def _key() -> bytes:
    secret = settings.signing_secret()
    if not secret:
        raise SigningUnavailable(
            "set [backfill] signing_key (the same on the api-server and every worker), or [api_auth] jwt_secret"
        )
    return hashlib.sha256(_CONTEXT + secret.encode()).digest()


def _message(dag_id: str, run_id: str, content: Any) -> bytes:
    return json.dumps([dag_id, run_id, content], sort_keys=True, separators=(",", ":")).encode()


def sign(dag_id: str, run_id: str, content: Any) -> str:
    return hmac.new(_key(), _message(dag_id, run_id, content), hashlib.sha256).hexdigest()


def verify(dag_id: str, run_id: str, content: Any, signature: Any) -> bool:
    """True only for the service's own signature of exactly this content in exactly this run."""
    if not isinstance(signature, str):
        return False
    try:
        expected = sign(dag_id, run_id, content)
    except SigningUnavailable:
        return False
    return hmac.compare_digest(expected, signature)


def available() -> bool:
    try:
        _key()
    except SigningUnavailable:
        return False
    return True
