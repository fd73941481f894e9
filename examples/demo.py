"""README command 1: Airflow with this provider, the example DAGs and the controller, and a demo plan.

Starts ``airflow standalone`` (SQLite, LocalExecutor, SimpleAuthManager with its generated admin
password: real authentication, as a user gets it) in ``AIRFLOW_HOME`` (default ``./.airflow-demo``)
with ``dags/`` as the DAGs folder, logs in as admin, submits ``examples/plans/rebuild_week.yaml``
over the REST API, and follows it to success. Airflow keeps running afterwards (Ctrl-C stops it)
so the plan can be looked at in the UI; ``--stop`` stops it when the plan ends.

    python examples/demo.py [--port 8080] [--stop]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from airflow_backfill_provider import BackfillPlan

ROOT = Path(__file__).resolve().parents[1]
PLAN_FILE = ROOT / "examples" / "plans" / "rebuild_week.yaml"


def wait(what: str, check, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except requests.RequestException:
            found = None
        if found:
            return found
        time.sleep(1)
    raise SystemExit(f"timed out waiting for {what}")


def demo_keys(home: Path) -> tuple[str, str]:
    """The demo's signing key pair, made once and kept in its AIRFLOW_HOME (a plan's runs stay valid
    across restarts)."""
    from airflow_backfill_provider import signing

    path = home / "backfill-signing.json"
    if not path.exists():
        path.write_text(json.dumps(signing.generate()))
        path.chmod(0o600)
    private, public = json.loads(path.read_text())
    return str(private), str(public)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--stop", action="store_true", help="stop Airflow when the plan has ended")
    args = parser.parse_args()
    home = Path(os.environ.get("AIRFLOW_HOME", ROOT / ".airflow-demo")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://localhost:{args.port}"
    private, public = demo_keys(home)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__API__PORT": str(args.port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        # one machine runs every component here; a deployment gives workers the public key only
        "AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY": private,
        "AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS": public,
        # standalone starts its components as `airflow ...`: find the one installed beside this Python
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    pid_file = home / "standalone.pid"
    airflow: subprocess.Popen[bytes] | None = None
    if _answers(url):  # a demo started before (or another Airflow) is already there: use it
        print(f"an Airflow already answers at {url}: submitting the plan to it", flush=True)
    else:
        log = open(home / "standalone.log", "ab")  # noqa: SIM115 - open as long as Airflow runs
        print(f"starting airflow standalone in {home} (log: {home / 'standalone.log'})", flush=True)
        airflow = subprocess.Popen(
            [sys.executable, "-m", "airflow", "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pid_file.write_text(str(airflow.pid))
    try:
        wait("the api-server", lambda: requests.get(f"{url}/api/v2/monitor/health", timeout=5).ok)
        passwords = home / "simple_auth_manager_passwords.json.generated"
        password = wait(
            "the admin password",
            lambda: passwords.exists() and json.loads(passwords.read_text()).get("admin"),
        )
        token = requests.post(
            f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30
        ).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for dag_id in ("example_sales", "backfill_plan_controller"):
            wait(
                f"DAG {dag_id} to be parsed",
                lambda d=dag_id: session.get(f"{url}/api/v2/dags/{d}", timeout=10).ok,
            )
        plan = BackfillPlan.from_yaml(PLAN_FILE.read_text()).to_dict()
        response = session.post(f"{url}/backfill/api/v1/plans", json=plan, timeout=120)
        if response.status_code not in (200, 201):
            print(response.text, file=sys.stderr)
            return 1
        name = response.json()["plan"]["name"]
        print(f"submitted plan {name}: {response.json()['plan']['total_lots']} lots", flush=True)
        last = None
        while True:
            found = session.get(f"{url}/backfill/api/v1/plans/{name}", timeout=30).json()
            line = f"{found['state']}: " + ", ".join(f"{n} {s}" for s, n in found["counts"].items() if n)
            if line != last:
                print(line, flush=True)
                last = line
            if found["state"] in ("success", "failed", "cancelled"):
                break
            time.sleep(2)
        print(f"\nThe plan on the Backfill plans page: {url}/plugin/backfill-plans?plan={name}")
        print(f"  (user admin, password {password}; the page is in Airflow's navigation too)")
        print(f"CLI: AIRFLOW_HOME={home} airflow backfill-plans show {name}")
        if found["state"] != "success":
            return 1
        if not args.stop:
            print("Airflow keeps running; Ctrl-C stops it (or run this again with --stop).")
            if airflow is not None:
                airflow.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if airflow is not None and airflow.poll() is None:
            _stop(airflow.pid)
            pid_file.unlink(missing_ok=True)
        elif airflow is None and args.stop and pid_file.exists():  # the demo started before
            _stop(int(pid_file.read_text()))
            pid_file.unlink(missing_ok=True)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v2/monitor/health", timeout=3).ok
    except requests.RequestException:
        return False


def _stop(pid: int) -> None:
    """Stop a standalone Airflow and every process it started; SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


if __name__ == "__main__":
    raise SystemExit(main())
