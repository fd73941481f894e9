"""Every example plan file is a valid plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_backfill_provider import BackfillPlan

PLANS = sorted((Path(__file__).resolve().parents[2] / "examples" / "plans").glob("*.yaml"))


def test_there_is_one_example_per_common_case():
    assert len(PLANS) >= 8


@pytest.mark.parametrize("path", PLANS, ids=lambda p: p.stem)
def test_example_plan_is_valid(path: Path):
    plan = BackfillPlan.from_yaml(path.read_text())
    assert plan.dag_id
    assert BackfillPlan.from_yaml(plan.to_yaml()) == plan
