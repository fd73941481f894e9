"""The plans' metrics through Airflow's own metrics (issue 20, item 7), read from a StatsD listener on
the loopback port the harness points ``[metrics]`` at. Every component sends its metrics there, so the
listener reads all the time (a socket left unread drops what overflows its buffer)."""

from __future__ import annotations

import socket
import threading

from tests.integration.harness import Airflow
from tests.integration.plans import submit, wait_for

WANTED = ("lot.started", "lot.ended.success", "lot.duration", "driver.pass_duration", "plans.active")


def test_lot_and_driver_metrics_reach_statsd(airflow: Airflow):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind(("127.0.0.1", int(airflow.env["AIRFLOW__METRICS__STATSD_PORT"])))
    sock.settimeout(0.2)
    seen: dict[str, str] = {}
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                packet = sock.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            for line in packet.splitlines():
                name, _, rest = line.partition(":")
                if "backfill_plan." in name:
                    seen[name.split("backfill_plan.", 1)[1]] = rest

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        plan = submit(airflow, {"dag_id": "ledger_daily", "name": "metered", "dates": ["2024-12-05"]})
        assert wait_for(airflow, plan["name"])["state"] == "success"
        stop.wait(5)  # the pass that saw the lot end has sent its metrics by now
    finally:
        stop.set()
        listener.join(timeout=5)
        sock.close()
    for metric in WANTED:
        assert metric in seen, (metric, sorted(seen))
    kinds = {name: rest.split("|")[1] for name, rest in seen.items()}
    assert (kinds["lot.duration"], kinds["driver.pass_duration"], kinds["plans.active"]) == ("ms", "ms", "g")
    assert seen["lot.ended.success"].startswith("1|c")
