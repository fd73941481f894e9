"""The plan room: the BackfillPlan model and the planner. Pure Python, no database."""

from airflow_backfill_provider.plan.model import BackfillPlan, LotSize

__all__ = ["BackfillPlan", "LotSize"]
