"""``airflow backfill-plans`` against a real Airflow: same service, same messages, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.integration.harness import Airflow, free_port
from tests.integration.plans import wait_for


def cli(airflow: Airflow, *args: str):
    return airflow.airflow("backfill-plans", *args, check=False)


def test_create_preview_list_show_lots_and_cancel(airflow: Airflow, tmp_path: Path):
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(
        "dag_id: ledger_daily\nname: cli-plan\nranges:\n  - {start: 2024-08-01, end: 2024-08-03}\n"
        "paused: true\n"
    )
    preview = cli(airflow, "create", str(plan_file), "--preview", "--output", "json")
    assert preview.returncode == 0, preview.stderr
    assert [lot["label"] for lot in json.loads(preview.stdout)] == ["2024-08-01", "2024-08-02", "2024-08-03"]
    created = cli(airflow, "create", str(plan_file), "--output", "json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)[0]["state"] == "paused"
    listed = json.loads(cli(airflow, "list", "--dag-id", "ledger_daily", "--output", "json").stdout)
    assert "cli-plan" in [p["name"] for p in listed]
    shown = json.loads(cli(airflow, "show", "cli-plan", "--output", "json").stdout)[0]
    assert shown["total_lots"] == 3 and shown["counts"]["pending"] == 3
    table = cli(airflow, "lots", "cli-plan")
    assert table.returncode == 0 and "2024-08-02" in table.stdout
    assert (
        json.loads(cli(airflow, "cancel", "cli-plan", "--output", "json").stdout)[0]["state"] == "cancelled"
    )
    again = cli(airflow, "cancel", "cli-plan")
    assert again.returncode == 1 and "cannot cancel plan 'cli-plan': it is cancelled" in again.stderr


def test_bad_plan_exits_non_zero_naming_every_field(airflow: Airflow, tmp_path: Path):
    plan_file = tmp_path / "bad.yaml"
    plan_file.write_text("dag_id: ledger_daily\ndates: [2024-01-01]\nparalelism: 2\nlot: 2w\n")
    done = cli(airflow, "create", str(plan_file))
    assert done.returncode == 1
    assert "paralelism: unknown field 'paralelism': did you mean 'parallelism'?" in done.stderr
    assert "lot: '2w' is not a lot size" in done.stderr


def test_create_wait_prints_progress_and_exits_zero_on_success(airflow: Airflow, tmp_path: Path):
    plan_file = tmp_path / "wait.yaml"
    plan_file.write_text(
        "dag_id: ledger_hourly\nname: cli-wait\nlot: 12h\ndates: [2024-09-01]\nparallelism: 2\n"
    )
    done = cli(airflow, "create", str(plan_file), "--wait")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2/2 success" in done.stdout
    assert wait_for(airflow, "cli-wait")["state"] == "success"


def test_doctor_passes_on_a_healthy_deployment(airflow: Airflow):
    done = cli(airflow, "doctor", "--output", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert list(checks) == [
        "plugin",
        "api-server",
        "tables",
        "private key",
        "public keys",
        "triggerer",
        "controller DAG",
    ]
    assert all(c["ok"] and not c["fix"] for c in checks.values()), checks
    assert "a triggerer is alive" in checks["triggerer"]["found"]


def test_doctor_names_each_broken_part_with_its_fix(airflow: Airflow, tmp_path: Path):
    broken = {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'never-migrated.db'}",
        "AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY": "",
        "AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS": "",
        "AIRFLOW__BACKFILL__API_URL": f"http://127.0.0.1:{free_port()}",
    }
    done = airflow.airflow("backfill-plans", "doctor", "--output", "json", check=False, env=broken)
    assert done.returncode == 1, done.stdout + done.stderr
    checks = {c["name"]: c for c in json.loads(done.stdout)}
    assert checks["plugin"]["ok"]  # installed here: only where it runs is wrong
    failed = {name for name, c in checks.items() if not c["ok"]}
    assert failed == {"api-server", "tables", "private key", "public keys", "triggerer", "controller DAG"}
    assert "AIRFLOW__BACKFILL__API_URL" in checks["api-server"]["fix"]
    assert "airflow db migrate" in checks["tables"]["fix"]
    assert "python -m airflow_backfill_provider.signing" in checks["private key"]["fix"]
    assert "never in the DAGs folder" in checks["public keys"]["fix"]
    assert checks["controller DAG"]["required"] is False
    table = airflow.airflow("backfill-plans", "doctor", check=False, env=broken)
    assert table.returncode == 1 and "[backfill] signing_private_key" in table.stdout  # not eaten as markup
