"""Signatures on what the service writes into runs, checked where tasks run.

A lot run's conf carries the plan's dry-run tasks, ``task_params`` and routing under a reserved key
(``marker.py``), and a notify run's conf names the targets to tell. Anyone who may trigger a DAG can
put any conf in a run, so workers act on those keys only when the service's signature is valid. A
signature is bound to one run as Airflow records it — DAG, run id, logical date and run type
(``RunBinding``) — so a conf copied into another run, into a run re-made by hand under the same id,
or written by hand, is refused. It is made over a canonical form of the content (``canonical``), so
that what the database gives back (PostgreSQL's JSONB writes ``1e16`` as ``10000000000000000`` and
has no ``-0.0``) still verifies.

Signatures are Ed25519. The private key (``[backfill] signing_private_key``) lives only where the
service runs: the api-server and the hosts that run the ``airflow backfill-plans`` CLI. Workers hold
only public keys (``[backfill] signing_public_keys``), which can verify but never sign: a task on a
worker cannot forge a plan's conf, and no worker needs Airflow's JWT secret for this. Several public
keys may be listed, so a key is rotated without failing runs in flight (README, Security).

``python -m airflow_backfill_provider.signing`` prints a new key pair as configuration lines.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airflow_backfill_provider import settings

_CONTEXT = "airflow-backfill-provider/signature/v3"
_LEGACY_CONTEXT = "airflow-backfill-provider/signature/v2"
"""0.2's signatures (DAG and run id only): still verified on backfill runs, which only the service
makes, so lot runs in flight during an upgrade go on"""
PRIVATE_OPTION = "[backfill] signing_private_key"
PUBLIC_OPTION = "[backfill] signing_public_keys"


class SigningUnavailable(RuntimeError):
    """The key this host needs is not configured, or cannot be read."""


def _raw(text: str, what: str) -> bytes:
    """32 key bytes from base64 (standard or URL-safe, padded or not)."""
    cleaned = "".join(text.split())
    try:
        raw = base64.urlsafe_b64decode(
            cleaned.replace("+", "-").replace("/", "_") + "=" * (-len(cleaned) % 4)
        )
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise SigningUnavailable(
            f"{what} is not an Ed25519 key: give the base64 of its 32 raw bytes, as "
            "`python -m airflow_backfill_provider.signing` prints them"
        )
    return raw


@functools.lru_cache(maxsize=4)
def _private_key(text: str) -> Ed25519PrivateKey:
    if not text:
        raise SigningUnavailable(
            f"{PRIVATE_OPTION} is not set on this host. The api-server and the hosts that run "
            "`airflow backfill-plans` sign what plans write into runs with it; workers verify with "
            f"{PUBLIC_OPTION}. Make a key pair with `python -m airflow_backfill_provider.signing`."
        )
    if text.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningUnavailable(f"{PRIVATE_OPTION} is a PEM key, but not an Ed25519 one")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw(text, PRIVATE_OPTION))


@functools.lru_cache(maxsize=4)
def _public_keys(listed: str, private: str) -> tuple[Ed25519PublicKey, ...]:
    keys = [
        Ed25519PublicKey.from_public_bytes(_raw(p, PUBLIC_OPTION)) for p in listed.split(",") if p.strip()
    ]
    if not keys and private:  # the service's own host verifies with its own key
        keys.append(_private_key(private).public_key())
    return tuple(keys)


def private_key() -> Ed25519PrivateKey:
    """This host's signing key; raises SigningUnavailable saying how to set it."""
    return _private_key(settings.signing_private_key())


def public_keys() -> tuple[Ed25519PublicKey, ...]:
    return _public_keys(settings.signing_public_keys(), settings.signing_private_key())


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@dataclass(frozen=True)
class RunBinding:
    """The run a signature is bound to, as Airflow records it."""

    dag_id: str
    run_id: str
    logical_date: str | None
    """ISO UTC with microseconds (``iso_utc``), or None for a run without one"""
    run_type: str
    """Airflow's ``DagRunType`` word: ``backfill`` for lot runs, ``manual`` for notify runs"""

    @classmethod
    def of(cls, dag_run: Any) -> RunBinding:
        """The binding of a DagRun: Airflow's ORM row (scheduler, api-server) or the task context's."""
        run_type = getattr(dag_run, "run_type", None)
        return cls(
            dag_id=str(getattr(dag_run, "dag_id", "")),
            run_id=str(getattr(dag_run, "run_id", "")),
            logical_date=iso_utc(getattr(dag_run, "logical_date", None)),
            run_type=str(getattr(run_type, "value", run_type)),
        )


def iso_utc(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> Any:
    """The content as signed: every number as a float (``-0.0`` as ``0.0``), so a value the database
    hands back in another form (``1e16`` as an integer) signs the same; ints beyond a float's range
    keep their digits."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            return f"int:{value}"
        return 0.0 if number == 0 else number if math.isfinite(number) else str(number)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return str(value)


def _message(binding: RunBinding, content: Any) -> bytes:
    parts = [_CONTEXT, binding.dag_id, binding.run_id, binding.logical_date, binding.run_type]
    return json.dumps([*parts, canonical(content)], sort_keys=True, separators=(",", ":")).encode()


def _legacy_message(binding: RunBinding, content: Any) -> bytes:
    parts = [_LEGACY_CONTEXT, binding.dag_id, binding.run_id, content]
    return json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()


def sign(binding: RunBinding, content: Any) -> str:
    return base64.b64encode(private_key().sign(_message(binding, content))).decode()


def verify(binding: RunBinding, content: Any, signature: Any) -> bool:
    """True only for the service's own signature of exactly this content in exactly this run.

    Raises SigningUnavailable when this host has no public key to check with: a worker that cannot
    check must say so, not act as if the run were forged.
    """
    keys = public_keys()
    if not keys:
        raise SigningUnavailable(
            f"{PUBLIC_OPTION} is not set on this worker: set it to the public key(s) printed by "
            "`python -m airflow_backfill_provider.signing` for the api-server's private key"
        )
    if not isinstance(signature, str) or len(signature) > 200:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    messages = [_message(binding, content)]
    if binding.run_type == "backfill":
        messages.append(_legacy_message(binding, content))
    for key in keys:
        for message in messages:
            try:
                key.verify(raw, message)
            except InvalidSignature:
                continue
            return True
    return False


def check_configured() -> None:
    """The service's start-up check: the private key is set and readable (SigningUnavailable if not)."""
    private_key()
    public_keys()


def unavailable_reason() -> str | None:
    """Why this host cannot sign, or None when it can."""
    try:
        check_configured()
    except SigningUnavailable as exc:
        return str(exc)
    return None


def generate() -> tuple[str, str]:
    """A new key pair: (private, public), each the base64 of its raw bytes."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(raw).decode(), public_key_text(key.public_key())


if __name__ == "__main__":
    private, public = generate()
    print("# api-server and CLI hosts only (keep it secret):")
    print(f"AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY={private}")
    print("# every worker (and the api-server): comma-separate old and new keys while rotating")
    print(f"AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS={public}")
