"""Hypothesis against the create endpoint of a real api-server: whatever the body, never a 500."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import Airflow
from tests.unit.plan.test_fuzz import plan_like

API = "/backfill/api/v1"


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=plan_like(), preview=st.booleans())
def test_create_and_preview_never_answer_500(airflow: Airflow, body: Any, preview: bool):
    if isinstance(body, dict) and not preview:
        body = {**body, "paused": True}  # a fuzzed plan that happens to be valid must not run
    response = airflow.client().post(
        f"{airflow.url}{API}/plans",
        params={"preview": "true"} if preview else None,
        data=json.dumps(body),  # NaN and Infinity included, as a hostile client may send them
        headers={"Content-Type": "application/json"},
        timeout=120,
    )
    assert response.status_code < 500, response.text[:1000]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields", "request_id"}
    elif not preview:
        plan = response.json()["plan"]
        airflow.client().post(f"{airflow.url}{API}/plans/{plan['id']}/cancel", timeout=120)
