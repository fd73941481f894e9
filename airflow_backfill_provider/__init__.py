"""Backfill plans for Apache Airflow 3.

``BackfillPlan`` is imported at once (it needs no Airflow runtime); the operator, sensor and hook
load on first use, so a plan can be validated without importing Airflow's task SDK.
"""

from __future__ import annotations

from typing import Any

from airflow_backfill_provider.plan.model import BackfillPlan

__version__ = "0.3.0"
__all__ = ["BackfillHook", "BackfillPlan", "BackfillPlanOperator", "BackfillPlanSensor", "__version__"]

_LAZY = {
    "BackfillHook": "airflow_backfill_provider.hooks.backfill",
    "BackfillPlanOperator": "airflow_backfill_provider.operators.backfill",
    "BackfillPlanSensor": "airflow_backfill_provider.sensors.backfill",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
