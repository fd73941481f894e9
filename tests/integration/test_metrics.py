"""The plans' metrics through Airflow's Stats (issue 20, item 7), read from a StatsD listener on the
loopback port the harness points ``[metrics]`` at."""

from __future__ import annotations

import socket
import time

from tests.integration.harness import Airflow
from tests.integration.plans import submit, wait_for


def test_lot_and_driver_metrics_reach_statsd(airflow: Airflow):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", int(airflow.env["AIRFLOW__METRICS__STATSD_PORT"])))
    sock.settimeout(0.5)
    seen: dict[str, str] = {}
    try:
        plan = submit(airflow, {"dag_id": "ledger_daily", "name": "metered", "dates": ["2024-12-05"]})
        assert wait_for(airflow, plan["name"])["state"] == "success"
        deadline = time.monotonic() + 30
        wanted = ("lot.started", "lot.ended.success", "lot.duration", "driver.pass_duration", "plans.active")
        while time.monotonic() < deadline and not all(f"backfill_plan.{w}" in " ".join(seen) for w in wanted):
            try:
                packet = sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            for line in packet.splitlines():
                name, _, rest = line.partition(":")
                if "backfill_plan." in name:
                    seen[name] = rest
    finally:
        sock.close()
    names = " ".join(seen)
    for metric in wanted:
        assert f"backfill_plan.{metric}" in names, (metric, sorted(seen))
    kinds = {name.split("backfill_plan.", 1)[1]: rest.split("|")[1] for name, rest in seen.items()}
    assert (
        kinds["lot.duration"] == "ms"
        and kinds["driver.pass_duration"] == "ms"
        and kinds["plans.active"] == "g"
    )
