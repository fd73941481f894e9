"""``dag_version`` (DMS HistoryDagId): lots run on a named earlier version of the DAG, where its
bundle keeps versions (auth/versioned_bundle.py), and are refused where it cannot go back."""

from __future__ import annotations

import time

from tests.integration.harness import Airflow
from tests.integration.plans import API, ledger, submit, wait_for


def versions(airflow: Airflow) -> list[tuple[int, str | None]]:
    return [
        (int(r[0]), r[1])
        for r in airflow.sql(
            "SELECT version_number, bundle_version FROM dag_version WHERE dag_id = 'ledger_versioned' "
            "ORDER BY version_number"
        )
    ]


def test_lots_run_the_older_version_and_its_task_list(airflow: Airflow):
    airflow.wait_for_dags("ledger_versioned")
    # a run on version 1 keeps it: Airflow rewrites a version no task instance used yet in place
    submit(airflow, {"dag_id": "ledger_versioned", "name": "on-latest-v1", "dates": ["2024-05-01"]})
    assert wait_for(airflow, "on-latest-v1")["state"] == "success"
    (airflow.home / "versioned" / "CURRENT").write_text("v2")
    deadline = time.monotonic() + 180
    while len(versions(airflow)) < 2 and time.monotonic() < deadline:
        time.sleep(2)
    assert versions(airflow) == [(1, "v1"), (2, "v2")]

    submit(
        airflow,
        {
            "dag_id": "ledger_versioned",
            "name": "on-v1",
            "dates": ["2024-05-02", "2024-05-03"],
            "dag_version": 1,
        },
    )
    submit(airflow, {"dag_id": "ledger_versioned", "name": "on-latest-v2", "dates": ["2024-05-04"]})
    assert wait_for(airflow, "on-v1")["state"] == "success"
    assert wait_for(airflow, "on-latest-v2")["state"] == "success"
    old = ledger(airflow, "on-v1")
    assert sorted((e["ds"], e["task_id"], e["version"]) for e in old) == [
        ("2024-05-02", "a", "v1"),
        ("2024-05-02", "b", "v1"),
        ("2024-05-03", "a", "v1"),
        ("2024-05-03", "b", "v1"),
    ]
    assert sorted((e["task_id"], e["version"]) for e in ledger(airflow, "on-latest-v2")) == [
        ("a", "v2"),
        ("b", "v2"),
        ("c", "v2"),
    ]
    runs = airflow.sql(
        "SELECT r.bundle_version, v.version_number FROM dag_run r JOIN dag_version v "
        "ON v.id = r.created_dag_version_id WHERE r.run_id LIKE 'backfill_plan__on-v1__%'"
    )
    assert sorted(runs) == [("v1", 1), ("v1", 1)]


def test_dag_version_refused_where_it_cannot_be_kept(airflow: Airflow):
    airflow.wait_for_dags("ledger_versioned")
    unknown = airflow.client().post(
        f"{airflow.url}{API}/plans?preview=true",
        json={"dag_id": "ledger_versioned", "dates": ["2024-05-02"], "dag_version": 99},
    )
    assert unknown.status_code == 422, unknown.text
    [field] = unknown.json()["error"]["fields"]
    assert field["loc"] == "dag_version" and "has no version 99" in field["msg"]
    local = airflow.client().post(
        f"{airflow.url}{API}/plans",
        json={"dag_id": "ledger_daily", "name": "local-version", "dates": ["2024-05-02"], "dag_version": 1},
    )
    assert local.status_code == 422, local.text
    [field] = local.json()["error"]["fields"]
    assert "LocalDagBundle" in field["msg"] and "keeps no earlier versions" in field["msg"]
    assert airflow.sql("SELECT count(*) FROM backfill_plan WHERE name = 'local-version'")[0][0] == 0
