"""What the Backfill plans page reads: its bundle, its two entries in Airflow's UI, the calendar,
the text filter and the preview's picture of a plan (issue 12)."""

from __future__ import annotations

from tests.integration.harness import Airflow
from tests.integration.plans import API, get, submit


def test_the_page_is_in_the_navigation_and_on_every_dag_and_its_bundle_is_served(airflow: Airflow):
    plugins = airflow.api("GET", "/api/v2/plugins")["plugins"]
    (ours,) = [p for p in plugins if p["name"] == "backfill_plans"]
    apps = {a["destination"]: a for a in ours["react_apps"]}
    assert apps["nav"]["name"] == apps["dag"]["name"] == "Backfill plans"
    assert apps["nav"]["nav_top_level"] is True
    assert apps["nav"]["bundle_url"] != apps["dag"]["bundle_url"]  # Airflow loads each URL once
    for app in apps.values():
        response = airflow.client(None).get(f"{airflow.url}/{app['bundle_url']}", timeout=30)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(("application/javascript", "text/javascript"))
        assert "AirflowPlugin" in response.text[:2000]
    icon = airflow.client(None).get(f"{airflow.url}/{apps['nav']['icon']}", timeout=30)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")


def test_the_calendar_aggregates_lot_states_by_day_and_checks_rights(airflow: Airflow):
    plan = submit(
        airflow,
        {
            "dag_id": "ledger_daily",
            "name": "calendar-days",
            "paused": True,
            "ranges": [{"start": "2025-08-10", "end": "2025-08-14"}],
        },
    )
    found = get(airflow, f"/plans/{plan['id']}/calendar")
    assert found["granularity"] == "day" and found["dags"] == ["ledger_daily"]
    assert [c["day"] for c in found["cells"]] == [f"2025-08-{d}" for d in range(10, 15)]
    assert all(c["state"] == "pending" and c["counts"] == {"pending": 1} for c in found["cells"])
    assert [c["first_lot"] for c in found["cells"]] == [0, 1, 2, 3, 4]
    # the viewer reads it; the scoped user may read ledger_daily too; nobody else learns it exists
    assert airflow.client("viewer").get(f"{airflow.url}{API}/plans/calendar-days/calendar").status_code == 200
    hidden = submit(
        airflow,
        {"dag_id": "ledger_params", "name": "calendar-hidden", "paused": True, "dates": ["2025-08-20"]},
    )
    for ref in (hidden["id"], 987654):
        response = airflow.client("scoped").get(f"{airflow.url}{API}/plans/{ref}/calendar")
        assert response.status_code == 403 and response.json()["error"]["code"]


def test_the_list_filters_by_text_in_name_or_dag(airflow: Airflow):
    submit(
        airflow, {"dag_id": "ledger_daily", "name": "Needle-in-name", "paused": True, "dates": ["2025-08-25"]}
    )
    names = [p["name"] for p in get(airflow, "/plans", q="needle-IN")["plans"]]
    assert names == ["Needle-in-name"]
    assert get(airflow, "/plans", q="%")["total"] == 0  # a wildcard is a character, not a pattern
    assert {p["dag_id"] for p in get(airflow, "/plans", q="ledger_dai", limit=1000)["plans"]} == {
        "ledger_daily"
    }


def test_a_preview_shows_the_data_time_covered_and_an_estimate(airflow: Airflow):
    response = airflow.client().post(
        f"{airflow.url}{API}/plans",
        params={"preview": "true", "limit": 2},
        json={
            "dag_id": "ledger_daily",
            "ranges": [{"start": "2025-09-01", "end": "2025-09-30"}],
            "parallelism": 3,
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["total"] == 30 and len(preview["lots"]) == 2
    assert preview["data_start"].startswith("2025-09-01") and preview["data_end"].startswith("2025-09-30")
    assert len(preview["calendar"]["cells"]) == 30
    estimate = preview["estimate"]
    assert "parallelism" in estimate["basis"]
    durations = airflow.sql(
        "SELECT count(*) FROM dag_run WHERE dag_id = 'ledger_daily' AND state = 'success' AND end_date IS NOT NULL"
    )[0][0]
    if durations:  # ten waves of the median successful run
        assert estimate["seconds"] is not None and estimate["seconds"] > 0 and estimate["runs_sampled"] > 0
    else:
        assert estimate["seconds"] is None and "no successful run" in estimate["basis"]
