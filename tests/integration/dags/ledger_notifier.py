"""A notifier for the test deployment's notification targets: records each call in the ledger."""

from __future__ import annotations

import json
import os
import time

from airflow.sdk import BaseNotifier


class LedgerNotifier(BaseNotifier):
    """``label`` is the target's (the deployment fixes it); ``subject`` and ``message`` are what the
    provider wrote. All three are template fields, as a real notifier's are."""

    template_fields = ("label", "subject", "message")

    def __init__(self, label: str, subject: str = "", message: str = "") -> None:
        super().__init__()
        self.label = label
        self.subject = subject
        self.message = message

    def notify(self, context) -> None:
        plan = context["backfill_plan"]
        entry = {
            "notifier": self.label,
            "plan": plan["name"],
            "state": plan["state"],
            "subject": self.subject,
            "message": self.message,
            "at": time.time(),
            "run_id": "notify",
            "dag_id": "notify",
            "task_id": "notify",
            "ds": "",
        }
        with open(os.environ["BACKFILL_TEST_LEDGER"], "a") as ledger:
            ledger.write(json.dumps(entry) + "\n")
