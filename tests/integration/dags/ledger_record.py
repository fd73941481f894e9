"""The ledger line a test task writes when it has done its work (``BACKFILL_TEST_LEDGER``).

A module without DAGs: DAG files of any bundle import it without parsing other DAGs into their own.
"""

from __future__ import annotations

import json
import os
import time


def record(context, **extra):
    entry = {
        "dag_id": context["dag"].dag_id,
        "task_id": context["ti"].task_id,
        "run_id": context["run_id"],
        "start": context["data_interval_start"].isoformat(),
        "end": context["data_interval_end"].isoformat(),
        "ds": context["ds"],
        "try": context["ti"].try_number,
        "at": time.time(),
        "worker": os.environ.get("BACKFILL_TEST_WORKER"),  # which Celery worker ran it (tests/celery)
        **extra,
    }
    with open(os.environ["BACKFILL_TEST_LEDGER"], "a") as ledger:
        ledger.write(json.dumps(entry) + "\n")
