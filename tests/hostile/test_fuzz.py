"""Hypothesis against the create endpoint of a real api-server: whatever the body, never a 500."""

from __future__ import annotations

import json
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.harness import Airflow
from tests.integration.plans import not_busy
from tests.unit.plan.test_fuzz import plan_like

API = "/backfill/api/v1"


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=plan_like(), preview=st.booleans())
def test_create_and_preview_never_answer_500(airflow: Airflow, body: Any, preview: bool):
    if isinstance(body, dict) and not preview:
        body = {**body, "paused": True}  # a fuzzed plan that happens to be valid must not run
    response = not_busy(
        lambda: airflow.client().post(
            f"{airflow.url}{API}/plans",
            params={"preview": "true"} if preview else None,
            data=json.dumps(body),  # NaN and Infinity included, as a hostile client may send them
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
    )
    assert response.status_code < 500, response.text[:1000]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "fields", "request_id"}
    elif not preview:
        plan = response.json()["plan"]
        airflow.client().post(f"{airflow.url}{API}/plans/{plan['id']}/cancel", timeout=120)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    where=st.sampled_from(["", "tasks", "dags", "notify", "run_window", "ranges.0", "ranges.0.window"]),
    width=st.integers(min_value=30, max_value=4_000),  # under the 1 MB body limit with the longest key
    key=st.sampled_from(["x", "%s", "{{ 1 }}", "dag_id", "\u00e9", "a" * 200]),
)
def test_an_object_of_any_width_is_one_bounded_answer(airflow: Airflow, where: str, width: int, key: str):
    """However many keys an object has, the answer is one 422 naming it, under 64 kB."""
    wide = {f"{key}{i}": i for i in range(width)}
    body: Any = {
        "dag_id": "ledger_daily",
        "dates": ["2024-01-01"],
        "ranges": [{"start": "2024-01-01", "end": "2024-01-02"}],
    }
    if not where:
        body.update(wide)
    else:
        parts = where.split(".")
        holder = body
        for part in parts[:-1]:
            holder = holder[int(part)] if part.isdigit() else holder[part]
        last = parts[-1]
        if last.isdigit():
            holder[int(last)] = wide
        else:
            holder[last] = wide
    response = not_busy(lambda: airflow.client().post(f"{airflow.url}{API}/plans", json=body, timeout=120))
    assert response.status_code == 422, response.text[:1000]
    assert len(response.content) < 64 * 1024
    assert [f["loc"] for f in response.json()["error"]["fields"]] == [where]


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    scheme=st.sampled_from(["Basic", "Negotiate", "Digest", "bearer", "Token", "NTLM", ""]),
    credentials=st.text(alphabet="abcXYZ0123=+/", max_size=40),
    content_type=st.sampled_from(
        ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]
    ),
)
def test_a_write_without_a_bearer_token_or_a_cookie_is_401(
    airflow: Airflow, scheme: str, credentials: str, content_type: str
):
    headers = {"Content-Type": content_type} if content_type else {}
    if scheme.lower() != "bearer" or not credentials.strip():
        headers["Authorization"] = f"{scheme} {credentials}".strip()
    else:
        headers["Authorization"] = "Basic x"
    response = requests.post(f"{airflow.url}{API}/plans", data=b"x=1", headers=headers, timeout=60)
    assert response.status_code == 401, response.text[:500]


# -- the compat endpoints and every path parameter (issue 18, item 10) ------------------------------

SYSTEM_FIELDS = {
    "dms": ["DagId", "BackFillDate", "BackFillDateBegin", "BackFillDateEnd", "StartNodeIds", "HistoryDagId", "IsTriggerSubTree", "Tid"],
    "dataworks": ["Name", "Type", "WorkflowId", "DefaultRunProperties", "Periods", "ProjectId", "Comment", "TaskParameters", "Alert"],
    "dataworks-legacy": ["ProjectEnv", "StartBizDate", "EndBizDate", "RootNodeId", "IncludeNodeIds", "BizBeginTime", "BizEndTime", "Parallelism", "NodeParams", "Name"],
    "wedata": ["ProjectId", "TaskIds", "DataBackfillRangeList", "TimeZone", "DataBackfillPlanName", "SkipEventListening", "RedefineParamList"],
    "aloudata": ["planId", "startPartition", "endPartition", "resourceGroup", "priority", "parallelism"],
}  # fmt: skip
HOSTILE_TEXT = st.sampled_from(
    ["²", "٣", "15001", "ledger_daily", "2024-01-01", "25:00:00", "true", "yes", "%00", "\x00", "..", "a" * 300, "{", "[1,"]
)  # fmt: skip


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


compat_leaf = st.one_of(HOSTILE_TEXT, st.text(max_size=20), st.integers(), st.booleans(), st.none())
compat_value = st.one_of(
    compat_leaf,
    st.lists(compat_leaf, max_size=4),
    st.dictionaries(st.sampled_from(["StartTime", "EndTime", "Key", "Value", "StartDate", "x"]), compat_leaf, max_size=3),
    st.integers(min_value=30, max_value=200).map(_deep),
)  # fmt: skip


@st.composite
def compat_request(draw: Any) -> tuple[str, str, dict[str, Any]]:
    system = draw(st.sampled_from(sorted(SYSTEM_FIELDS)))
    names = st.one_of(
        st.sampled_from(SYSTEM_FIELDS[system]),
        st.text(min_size=1, max_size=12),
        st.sampled_from(["StartNodeIds.1", "BizDates.1.StartBizDate", "A.1.A.1.A.1.A.1.A.1.A.1.B", "Action"]),
    )
    fields = draw(st.dictionaries(names, compat_value, max_size=8))
    return system, draw(st.sampled_from(["json", "form"])), fields


def _compat_url(af: Airflow, system: str) -> str:
    if system == "aloudata":
        return f"{af.url}/backfill/compat/aloudata/anymetrics/api/v1/accelerate/task/create"
    action = {"dms": "BackFill", "dataworks": "CreateWorkflowInstances", "dataworks-legacy": "RunCycleDagNodes", "wedata": "CreateDataBackfillPlan"}[system]  # fmt: skip
    return f"{af.url}/backfill/compat/{system}/{action}"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(request=compat_request())
def test_compat_endpoints_never_answer_500(airflow: Airflow, request: tuple[str, str, dict[str, Any]]):
    system, kind, fields = request
    client = airflow.client()
    url = _compat_url(airflow, system)
    if kind == "form":  # RPC style: flat keys, every value a string
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        response = not_busy(lambda: client.post(url, params={"preview": "true"}, data=data, timeout=120))
    else:
        response = not_busy(
            lambda: client.post(
                url,
                params={"preview": "true"},
                data=json.dumps(fields),
                headers={"Content-Type": "application/json"},
                timeout=120,
            )
        )
    assert response.status_code < 500, (system, fields, response.text[:1000])
    assert "Traceback" not in response.text


def test_compat_edges_seen_in_review_are_4xx(airflow: Airflow):
    """The seen cases, each a 500 before (issue 18, item 10)."""
    client = airflow.client()
    dms = f"{airflow.url}/backfill/compat/dms/BackFill"
    cases = [
        client.post(dms, json={"DagId": "dms_flow", "BackFillDate": "2024-10-01", "HistoryDagId": "²"}),
        client.post(dms, json={"DagId": "dms_flow", "BackFillDate": "2024-10-01", "StartNodeIds": _deep(500)}),
        client.post(dms, data={"DagId": "dms_flow", "BackFillDate": "2024-10-01", ("A.1." * 2000) + "B": "x"}),
        client.post(dms, data={f"F{i}": "x" for i in range(1200)}),
        client.get(f"{airflow.url}/backfill/compat/aloudata/anymetrics/api/v1/scheduler/task/detail", params={"id": "²"}),
        client.get(f"{airflow.url}/backfill/compat/aloudata/anymetrics/api/v1/accelerate/task/instance/list", params={"dagName": "²"}),
    ]  # fmt: skip
    for response in cases:
        assert 400 <= response.status_code < 500 or response.json().get("Response", {}).get("Error"), (
            response.status_code,
            response.text[:500],
        )


PATH_TEXT = st.one_of(
    st.text(min_size=1, max_size=40).filter(lambda t: t not in (".", "..") and "/" not in t and "?" not in t and "#" not in t),
    st.sampled_from(["²", "٣", "%00", "1" * 40, "-1", "0", "a..b", "..", "%2e%2e", "\u202e"]),
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(ref=PATH_TEXT, index=st.one_of(PATH_TEXT, st.integers(min_value=-5, max_value=10**12).map(str)))
def test_every_path_parameter_answers_4xx_not_500(airflow: Airflow, ref: str, index: str):
    from urllib.parse import quote

    client = airflow.client("scoped")
    plan, lot = quote(ref, safe=""), quote(index, safe="")
    for path in (
        f"/plans/{plan}",
        f"/plans/{plan}/lots",
        f"/plans/{plan}/lots/{lot}",
        f"/plans/{plan}/calendar",
    ):
        response = client.get(f"{airflow.url}{API}{path}", timeout=120)
        assert response.status_code < 500, (path, response.text[:500])
    for verb in ("pause", "resume", "cancel", "retry"):
        response = client.post(f"{airflow.url}{API}/plans/{plan}/{verb}", json={}, timeout=120)
        assert response.status_code < 500, (verb, response.text[:500])
