"""Backfill plans for Apache Airflow 3."""

from __future__ import annotations

from airflow_backfill_provider.plan.model import BackfillPlan

__version__ = "0.1.0"
__all__ = ["BackfillPlan", "__version__"]
