"""A corpus of hostile requests against the real api-server: each gets a 4xx in the one error shape
(naming the bad fields), and together they create no plan and no run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.harness import Airflow

API = "/backfill/api/v1"
GOOD = {"dag_id": "ledger_daily", "dates": ["2024-01-01"]}
TARGET = "corpus-target"
"""a paused plan the corpus's lot and steering cases address"""


@dataclass(frozen=True)
class Bad:
    why: str
    status: int
    body: Any = None
    raw: bytes | None = None
    method: str = "POST"
    path: str = "/plans"
    user: str | None = "admin"
    headers: dict[str, str] = field(default_factory=dict)
    locs: tuple[str, ...] | None = None
    """the fields the error must name (None: not checked)"""


def plan(**fields: Any) -> dict[str, Any]:
    return {**GOOD, **fields}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


CORPUS = [
    # types
    Bad("a list, not a plan", 422, body=[]),
    Bad("a string, not a plan", 422, body="rebuild everything"),
    Bad("JSON null", 422, body=None, raw=b"null"),
    Bad("not JSON", 422, raw=b"{oops"),
    Bad("an empty body", 422, raw=b""),
    Bad("bytes that are not UTF-8", 422, raw=b"\xff\xfe\x00garbage"),
    Bad("dag_id is a number", 422, body=plan(dag_id=42), locs=("dag_id",)),
    Bad("parallelism is a word", 422, body=plan(parallelism="four"), locs=("parallelism",)),
    Bad("parallelism is zero", 422, body=plan(parallelism=0), locs=("parallelism",)),
    Bad("dates are not dates", 422, body=plan(dates=["yesterday"]), locs=("dates.0",)),
    Bad(
        "a range ends before it starts",
        422,
        body={"dag_id": "ledger_daily", "ranges": [{"start": "2024-02-01", "end": "2024-01-01"}]},
    ),
    Bad("a lot size that does not exist", 422, body=plan(lot="2w"), locs=("lot",)),
    Bad("an order that does not exist", 422, body=plan(order="sideways"), locs=("order",)),
    Bad("a timezone that does not exist", 422, body=plan(timezone="Mars/Olympus_Mons"), locs=("timezone",)),
    Bad(
        "a window hour past 23",
        422,
        body={
            "dag_id": "ledger_hourly",
            "ranges": [
                {"start": "2024-01-01", "end": "2024-01-01", "window": {"start": "25:00", "end": "26:00"}}
            ],
        },
    ),
    Bad(
        "a window with daily lots",
        422,
        body={
            "dag_id": "ledger_daily",
            "lot": "1d",
            "ranges": [
                {"start": "2024-01-01", "end": "2024-01-02", "window": {"start": "01:00", "end": "02:00"}}
            ],
        },
    ),
    Bad("booleans as words", 422, body=plan(paused="sometimes"), locs=("paused",)),
    # unknown fields
    Bad("a typo in a field name", 422, body=plan(paralelism=2), locs=("paralelism",)),
    Bad("a typo in a nested field", 422, body=plan(tasks={"excude": ["b"]}), locs=("tasks.excude",)),
    # huge values
    Bad("twenty thousand dates", 422, body=plan(dates=[f"2024-01-{1 + i % 28:02d}" for i in range(20_000)])),
    Bad(
        "two thousand ranges",
        422,
        body={"dag_id": "ledger_daily", "ranges": [{"start": "2024-01-01", "end": "2024-01-02"}] * 2000},
    ),
    Bad("conf of 100 kB", 422, body=plan(conf={"blob": "x" * 100_000}), locs=("conf",)),
    Bad("a name of 300 characters", 422, body=plan(name="n" * 300), locs=("name",)),
    Bad("a comment of 10,000 characters", 422, body=plan(comment="c" * 10_000), locs=("comment",)),
    Bad("a hundred tags", 422, body=plan(tags=[f"t{i}" for i in range(100)]), locs=("tags",)),
    Bad("conf nested 100 levels", 422, body=plan(conf=nested(100))),
    Bad("a body of 2 MB", 413, raw=json.dumps(plan(comment="x" * 2_000_000)).encode()),
    Bad(
        "a million hourly lots",
        422,
        body={
            "dag_id": "ledger_hourly",
            "lot": "1h",
            "ranges": [{"start": "1900-01-01", "end": "2020-01-01"}],
        },
    ),
    Bad(
        "priority beyond a database integer", 422, body=plan(priority_weight=2**40), locs=("priority_weight",)
    ),
    Bad("parallelism of a billion", 422, body=plan(parallelism=10**9), locs=("parallelism",)),
    Bad("lots of 9999 days", 422, body=plan(lot="9999d"), locs=("lot",)),
    # injection strings
    Bad("SQL in dag_id", 422, body=plan(dag_id="x'; DROP TABLE dag_run; --"), locs=("dag_id",)),
    Bad("a path in the name", 422, body=plan(name="../../etc/passwd"), locs=("name",)),
    Bad("a newline in the name", 422, body=plan(name="a\nb"), locs=("name",)),
    Bad("a NUL in a task pattern", 422, body=plan(tasks={"exclude": ["a\x00"]}), locs=("tasks.exclude.0",)),
    Bad(
        "NaN in conf",
        422,
        raw=b'{"dag_id": "ledger_daily", "dates": ["2024-01-01"], "conf": {"x": NaN}}',
        locs=("conf.x",),
    ),
    Bad(
        "a shell command as notifier",
        422,
        body=plan(notify={"targets": ["os.system"]}),
        locs=("notify.targets.0",),
    ),
    Bad(
        "Python code as notifier",
        422,
        body=plan(notify={"targets": ["__import__('os').system"]}),
        locs=("notify.targets.0",),
    ),
    Bad("the parking pool", 422, body=plan(pool="backfill_parked"), locs=("pool",)),
    # a plan author sends data, never code, recipients or routing (issue 31)
    Bad(
        "a notifier with the author's own recipients",
        422,
        body=plan(notify={"notifiers": [{"notifier": "smtp", "kwargs": {"to": ["x@outside.example"] * 50}}]}),
        locs=("notify.notifiers",),
    ),
    Bad(
        "a template as a target",
        422,
        body=plan(notify={"targets": ["{{ 7 * 7 }}"]}),
        locs=("notify.targets.0",),
    ),
    Bad(
        "a target nobody defined", 422, body=plan(notify={"targets": ["anyone"]}), locs=("notify.targets.0",)
    ),
    Bad("a queue a USER may not route to", 422, body=plan(queue="gpu_farm"), user="author", locs=("queue",)),
    Bad("a priority beyond the database", 422, body=plan(priority_weight=2**31), locs=("priority_weight",)),
    Bad("a plan wider than the model", 422, body=plan(**{f"x{i}": i for i in range(200)}), locs=("",)),
    Bad(
        "tasks wider than the model", 422, body=plan(tasks={f"x{i}": i for i in range(200)}), locs=("tasks",)
    ),
    Bad(
        "an anonymous write that is not JSON",
        401,
        raw=b"DagId=1",
        user=None,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Bad(
        "a Basic header is not a script's",
        401,  # no cookie either: nobody
        raw=b"{}",
        user=None,
        headers={"Authorization": "Basic YWRtaW46YWRtaW4tcGFzcy0x"},
    ),
    Bad(
        "the reserved conf key",
        422,
        body=plan(conf={"__backfill_plan__": {"task_params": {"a": {"x": 1}}}}),
        locs=("conf.__backfill_plan__",),
    ),
    Bad("a name that looks like an id", 422, body=plan(name="1"), locs=("name",)),
    Bad("backfilling the controller", 422, body=plan(dag_id="backfill_plan_controller"), locs=("dag_id",)),
    Bad("SQL in the timezone", 422, body=plan(timezone="UTC'; --"), locs=("timezone",)),
    Bad("an unknown DAG", 404, body=plan(dag_id="no_such_dag"), locs=("dag_id",)),
    Bad("an unknown task", 404, body=plan(tasks={"roots": ["no_such_task"]}), locs=("tasks.roots.0",)),
    Bad("a hostile request id", 422, raw=b"{oops", headers={"X-Request-ID": "x" * 500}),
    # bad query parameters
    # on a plan that exists (rights and existence are answered first: 403 or 404 before 422)
    Bad("a negative lot index", 422, method="GET", path=f"/plans/{TARGET}/lots/-1"),
    Bad("a lot page of 100,000", 422, method="GET", path=f"/plans/{TARGET}/lots?limit=100000"),
    Bad("a state that does not exist", 422, method="GET", path="/plans?state=bogus"),
    Bad("a lot index that is a word", 422, method="POST", path=f"/plans/{TARGET}/retry?index=abc"),
    Bad(
        "a lot index past any lot",
        422,
        method="POST",
        path=f"/plans/{TARGET}/retry?index=9223372036854775808",
        locs=("index",),
    ),
    Bad(
        "a preview of a million lots listed",
        422,
        method="POST",
        path="/plans?preview=true&limit=1000000",
        body=GOOD,
    ),
    # wrong rights
    Bad("no credentials", 401, body=GOOD, user=None),
    Bad(
        "a forged bearer token",
        403,  # Airflow's own answer to a token it cannot verify
        body=GOOD,
        user=None,
        headers={"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.forged"},
    ),
    Bad("a viewer creates", 403, body=GOOD, user="viewer"),
    Bad("a viewer previews", 403, path="/plans?preview=true", body=GOOD, user="viewer"),
    Bad("a viewer cancels", 403, path="/plans/1/cancel", user="viewer"),
    Bad(
        "a scoped user previews DAGs beyond its rights",
        403,
        path="/plans?preview=true",
        body=plan(dag_id="ledger_hourly"),
        user="scoped",
    ),
    Bad("the driver's call without its token", 403, path="/driver/pass", user=None),
    Bad(
        "the driver's call with a wrong token",
        403,
        path="/driver/pass",
        user="viewer",
        headers={"X-Backfill-Driver-Token": "guess"},
    ),
    Bad("dots as the plan id", 403, method="GET", path="/plans/%2e%2e", user="scoped"),
]


def _count(af: Airflow) -> tuple[int, int]:
    plans = af.client().get(f"{af.url}{API}/plans", params={"limit": 1}).json()["total"]
    runs = af.api("GET", "/api/v2/dags/ledger_daily/dagRuns", params={"limit": 1})["total_entries"]
    return plans, runs


@pytest.fixture(scope="module")
def counted(airflow: Airflow) -> Any:
    response = airflow.client().post(
        f"{airflow.url}{API}/plans", json={**GOOD, "name": TARGET, "paused": True}, timeout=120
    )
    assert response.status_code in (200, 201), response.text
    before = _count(airflow)
    yield airflow
    assert _count(airflow) == before, "a hostile request created something"
    # a plan left paused would keep the shared Airflow's plan driver running for the tests after
    cancelled = airflow.client().post(f"{airflow.url}{API}/plans/{TARGET}/cancel", timeout=120)
    assert cancelled.status_code == 200, cancelled.text


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("bad", CORPUS, ids=[b.why for b in CORPUS])
def test_hostile_request_gets_one_4xx_error_shape(counted: Airflow, bad: Bad):
    client = counted.client(bad.user)
    headers = dict(bad.headers)
    if bad.raw is not None or bad.body is not None or bad.method == "POST":
        headers.setdefault("Content-Type", "application/json")
    data = (
        bad.raw if bad.raw is not None else (json.dumps(bad.body).encode() if bad.body is not None else None)
    )
    response = client.request(
        bad.method, f"{counted.url}{API}{bad.path}", data=data, headers=headers, timeout=120
    )
    assert response.status_code == bad.status, f"{bad.why}: {response.status_code} {response.text[:500]}"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields", "request_id"}
    assert isinstance(error["message"], str) and error["message"]
    assert all(set(f) == {"loc", "msg"} and f["msg"] for f in error["fields"])
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert len(error["request_id"]) <= 128
    if bad.locs is not None:
        assert tuple(f["loc"] for f in error["fields"]) == bad.locs, error
