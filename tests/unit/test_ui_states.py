"""The page's lot and plan states (``plugin/www/src/api.ts``) are the service's (``states.py``), in
its order: a state added to one and not the other fails here, not in a user's browser."""

from __future__ import annotations

import re
from pathlib import Path

import airflow_backfill_provider
from airflow_backfill_provider.states import FINAL_PLANS, LotState, PlanState

API_TS = Path(airflow_backfill_provider.__file__).parent / "plugin" / "www" / "src" / "api.ts"


def _ts_list(name: str) -> list[str]:
    match = re.search(rf"export const {name}[^=]*=\s*\[(.*?)\]", API_TS.read_text(), re.S)
    assert match, f"{name} not found in {API_TS}"
    return re.findall(r'"([a-z_]+)"', match[1])


def test_the_pages_states_are_the_services():
    assert _ts_list("LOT_STATES") == [s.value for s in LotState]
    assert _ts_list("PLAN_STATES") == [s.value for s in PlanState]
    assert set(_ts_list("FINAL_PLAN_STATES")) == {s.value for s in FINAL_PLANS}
