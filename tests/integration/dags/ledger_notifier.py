"""A notifier for plans' ``notify``: records each call in the ledger."""

from __future__ import annotations

import json
import os
import time

from airflow.sdk import BaseNotifier


class LedgerNotifier(BaseNotifier):
    template_fields = ("label",)
    backfill_plan_arguments = ("label",)  # what a plan may set: the label, a template of the plan's fields

    def __init__(self, label: str = "") -> None:
        super().__init__()
        self.label = label

    def notify(self, context) -> None:
        plan = context["backfill_plan"]
        entry = {
            "notifier": self.label,
            "plan": plan["name"],
            "state": plan["state"],
            "at": time.time(),
            "run_id": "notify",
            "dag_id": "notify",
            "task_id": "notify",
            "ds": "",
        }
        with open(os.environ["BACKFILL_TEST_LEDGER"], "a") as ledger:
            ledger.write(json.dumps(entry) + "\n")
