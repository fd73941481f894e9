"""``[core] hostname_callable`` for the Celery tests: each worker's name, so task instances show
which of two workers on one host ran them."""

from __future__ import annotations

import os
import socket


def worker_name() -> str:
    return os.environ.get("BACKFILL_TEST_WORKER") or socket.getfqdn()
