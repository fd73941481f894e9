"""Signatures on what the service writes into runs, checked where tasks run.

A lot run's conf carries the plan's dry-run tasks and ``task_params`` under a reserved key, and a
notify run's conf names the notifiers to call. Anyone who may trigger a DAG can put any conf in a
run, so workers act on those keys only when the service's signature over (DAG, run, content) is
valid: a conf copied into another run, or written by hand, is refused.

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
import functools
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from airflow_backfill_provider import settings

_CONTEXT = "airflow-backfill-provider/signature/v2"
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


def _message(dag_id: str, run_id: str, content: Any) -> bytes:
    return json.dumps([_CONTEXT, dag_id, run_id, content], sort_keys=True, separators=(",", ":")).encode()


def sign(dag_id: str, run_id: str, content: Any) -> str:
    return base64.b64encode(private_key().sign(_message(dag_id, run_id, content))).decode()


def verify(dag_id: str, run_id: str, content: Any, signature: Any) -> bool:
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
    message = _message(dag_id, run_id, content)
    for key in keys:
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
