"""The DAGs the provider ships (dags/) import cleanly and are the ones the README names."""

from __future__ import annotations

import os
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_shipped_dags_import_without_errors(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) == {"backfill_plan_controller", "example_sales", "example_weekly_rebuild"}
    weekly = bag.dags["example_weekly_rebuild"]
    assert [t.task_id for t in weekly.tasks] == ["rebuild_last_week", "confirm"]
    controller = bag.dags["backfill_plan_controller"]
    assert controller.max_active_runs >= 1000 and os.path.exists(DAGS / "backfill_controller.py")
