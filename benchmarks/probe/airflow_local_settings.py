"""Benchmark probe (``benchmarks/scheduler_load.py`` puts this folder on the PYTHONPATH of Airflow's
processes; Airflow imports ``airflow_local_settings`` in each of them).

Counts the SQL statements each component sends to the database (SQLAlchemy's
``before_cursor_execute`` on every engine) and reports the count once a second to the benchmark's
StatsD listener as ``bench.statements.<component>`` (a counter); a process forked from a component
(the LocalExecutor's workers fork from the scheduler) reports as ``<component>-child``. Nothing else
changes.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time

from sqlalchemy import event
from sqlalchemy.engine import Engine

COMPONENTS = ("scheduler", "api-server", "api_server", "dag-processor", "triggerer", "worker")


def _component() -> str | None:
    argv = " ".join(sys.argv)
    for name in COMPONENTS:
        if name in argv:
            return name.replace("_", "-")
    return None


class _Counter:
    def __init__(self, component: str, port: int) -> None:
        self.component, self.port, self.main = component, port, os.getpid()
        self.count = 0
        self.pid = 0

    def __call__(self, *args: object) -> None:
        self.count += 1
        if self.pid != os.getpid():  # first statement of this process (a fork keeps no thread)
            self.pid = os.getpid()
            self.count = 1
            threading.Thread(target=self._report, name="bench-statements", daemon=True).start()

    def _report(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sent, pid = 0, os.getpid()
        label = self.component if pid == self.main else f"{self.component}-child"
        while pid == os.getpid():
            time.sleep(1)
            now = self.count
            if now > sent:
                packet = f"bench.statements.{label}:{now - sent}|c".encode()
                sock.sendto(packet, ("127.0.0.1", self.port))
                sent = now


_name, _port = _component(), os.environ.get("BENCH_STATEMENTS_PORT")
if _name and _port:
    event.listen(Engine, "before_cursor_execute", _Counter(_name, int(_port)))
