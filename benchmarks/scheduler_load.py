"""What backfill plans cost Airflow's scheduler next to its native backfill, and how it serves many plans.

Four parts, each on a fresh Airflow of the test harness (scheduler, dag-processor, triggerer and
api-server as processes; ``--celery``: two schedulers and two Celery workers) with StatsD metrics
sent to a UDP listener in this script, and each component counting its SQL statements
(``benchmarks/probe/airflow_local_settings.py``):

1. ``cost``: Airflow idle, then a 10,000-lot plan (``bench_cost_plan``, daily from 1990, parallelism
   4), then Airflow's native backfill of the same 10,000 intervals of its twin ``bench_cost_native``
   (``POST /api/v2/backfills``, max_active_runs 4), one after the other, each measured over the
   same window once its runs go: scheduler loop time (``scheduler.scheduler_loop_duration``: mean,
   p95), the scheduler's SQL statements per loop, statements per second and CPU (cores) of each
   component, peak memory of each; and the ratio plan / native.
2. ``plans``: 1, 50 and 200 plans created at once (1 to 10 lots each, parallelism 2): lots
   finished per minute, the time until every plan ended (or "stalled" at the cap), the scheduler
   loop and the driver's pass (``backfill_plan.driver.pass_duration``) while they run.
3. ``reads``: three rounds of 50 plans alone, then 50 more while 20 open plan pages read the page's
   endpoints at its own rhythm (plan and lots every 2.5 s, calendar every 4 s; ``--readers-closed-loop``: with no
   pause): read latency (p50, p95) and lot throughput with readers against without.
4. ``busy``: a 3-lot plan beside 24 long RUNNING manual runs of ``bench_sleeper`` (apache/airflow#58554).

With ``--postgres URL`` that database is emptied before each part (SQLite: a new file each part).
Needs the ``statsd`` package (``pip install statsd``, or ``apache-airflow[statsd]``) where Airflow runs.

    python benchmarks/scheduler_load.py [--postgres URL [--celery]] [--only cost|plans|reads|busy] [see --help]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import importlib.util
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.harness import (
    Airflow,
    celery_env,
    celery_topology,
    free_port,
    local_topology,
    make_env,
    make_home,
    running_redis,
)

API = "/backfill/api/v1"
DAGS = Path(__file__).parent / "dags"
PROBE = Path(__file__).parent / "probe"
COST_DAGS = ("bench_cost_plan", "bench_cost_native")
PASS_STAT = "airflow.backfill_plan.driver.pass_duration"
PARTS = ("cost", "plans", "reads", "busy")
DAG_ID = "bench_one_task"
SLEEPER = "bench_sleeper"
CONTROLLER = "backfill_plan_controller"
LOOP_STAT = "airflow.scheduler.scheduler_loop_duration"
SCHEDULER_WORK = ("airflow.scheduler.", "airflow.dagrun.dependency-check,")
"""timers of the scheduler's own work in its loop, with influxdb tags (``name,tag=value``): the legacy
name with the dag_id in it (``dagrun.dependency-check.<dag_id>``) is the same timing again"""
FINAL_PLAN = ("success", "failed", "cancelled")
FINAL_LOT = ("success", "failed", "skipped", "blocked", "cancelled")


# -- StatsD ------------------------------------------------------------------------------------


class StatsdListener:
    """Receives StatsD packets on a loopback UDP port and keeps every timing (``|ms``) by stat name."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = int(self.sock.getsockname()[1])
        self.timers: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        """stat name -> (monotonic time received, ms)"""
        self.counters: dict[str, list[tuple[float, float]]] = collections.defaultdict(list)
        """stat name -> (monotonic time received, increment)"""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="statsd", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self.sock.recv(65535)
            except TimeoutError:
                continue
            now = time.monotonic()
            for line in packet.decode(errors="replace").splitlines():
                name, _, rest = line.partition(":")  # name:value|type[|@rate][|#tags]
                value, _, kind = rest.partition("|")
                kept = (
                    self.timers if kind.startswith("ms") else self.counters if kind.startswith("c") else None
                )
                if kept is not None:
                    with contextlib.suppress(ValueError):
                        kept[name].append((now, float(value)))

    def between(self, stat: str, start: float, end: float) -> list[float]:
        return [ms for at, ms in list(self.timers.get(stat, ())) if start <= at <= end]

    def counted(self, stat: str, start: float, end: float) -> float:
        return sum(n for at, n in list(self.counters.get(stat, ())) if start <= at <= end)

    def busiest(self, start: float, end: float, top: int = 5) -> list[tuple[str, float, int]]:
        """The timers with the most time in the window: (name, total ms, count)."""
        totals = [
            (name, sum(found), len(found))
            for name in list(self.timers)
            if name.startswith(SCHEDULER_WORK)
            and not name.startswith(LOOP_STAT)
            and (found := self.between(name, start, end))
        ]
        return sorted(totals, key=lambda t: -t[1])[:top]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@dataclass
class LoopStats:
    n: int
    mean: float
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, samples: list[float]) -> LoopStats | None:
        if len(samples) < 2:
            return None
        p95 = statistics.quantiles(samples, n=20, method="inclusive")[-1]
        return cls(len(samples), statistics.mean(samples), statistics.median(samples), p95, max(samples))

    def __str__(self) -> str:
        return (
            f"mean {self.mean:.0f}  p50 {self.p50:.0f}  p95 {self.p95:.0f}  max {self.max:.0f}  (n={self.n})"
        )


# -- Airflow -----------------------------------------------------------------------------------


@dataclass
class Bench:
    """A running Airflow, the StatsD listener it reports to, and the figures gathered so far."""

    af: Airflow
    statsd: StatsdListener
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, part: str, measure: str, value: object) -> None:
        self.rows.append((part, measure, str(value)))
        print(f"  {part} | {measure}: {value}", flush=True)

    def loop_stats(self, start: float, end: float) -> LoopStats | None:
        return LoopStats.of(self.statsd.between(LOOP_STAT, start, end))

    def loop_row(self, part: str, measure: str, start: float, end: float) -> None:
        stats = self.loop_stats(start, end)
        self.row(part, measure, stats or "fewer than 2 samples (is StatsD received?)")
        busiest = self.statsd.busiest(start, end, top=4)
        self.row(
            part,
            "  within: timers of most total time",
            "; ".join(
                f"{name.removeprefix('airflow.')} {total / 1000:.1f}s/{n}" for name, total, n in busiest
            ),
        )


def wipe_database(url: str) -> None:
    """Empty the PostgreSQL database: Airflow's tables and the provider's own.

    ``airflow db reset`` drops Airflow's tables only: the provider's (``backfill_plan``, ...) would
    keep the plans of an earlier part or run, and a plan posted again under the same name would
    come back as it ended there.
    """
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("DROP SCHEMA public CASCADE"))
        conn.execute(sqlalchemy.text("CREATE SCHEMA public"))
    engine.dispose()


def descendants(roots: set[int]) -> set[int]:
    """Every live process started, directly or not, by one of ``roots`` (from /proc: Linux)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            children[ppid].append(int(stat.parent.name))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@contextlib.contextmanager
def running_bench(
    database_url: str | None, extra_env: dict[str, str], celery: bool = False
) -> Iterator[Bench]:
    """The harness's Airflow (``running_airflow``) with StatsD on and ``extra_env`` added; each
    component counts its SQL statements (``probe/airflow_local_settings.py``). ``celery``: two
    schedulers and two Celery workers (the harness's ``celery_topology``, a private Redis)."""
    statsd = StatsdListener()
    home = make_home(DAGS)
    port = free_port()
    env = make_env(home, port, database_url, home / "dags")
    stack = contextlib.ExitStack()
    topology = local_topology()
    if celery:
        if not database_url:
            sys.exit("--celery needs --postgres")
        env.update(celery_env(database_url, stack.enter_context(running_redis())))
        topology = celery_topology()
    env["PYTHONPATH"] = os.pathsep.join([str(PROBE), env.get("PYTHONPATH", "")])
    env.update(
        {
            "BENCH_STATEMENTS_PORT": str(statsd.port),
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(statsd.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
            # tags in the names: "dagrun.dependency-check,dag_id=...", to see which DAG's runs cost
            "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
            **extra_env,
        }
    )
    af = Airflow(home=home, port=port, env=env, topology=topology)
    where = subprocess.run(
        [sys.executable, "-c", "import airflow_backfill_provider as p; print(p.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"Airflow processes import {where.stdout.strip()}", flush=True)
    try:
        if database_url:
            wipe_database(database_url)
        af.airflow("db", "migrate")
        for component in topology:
            af.start(component)
        af.wait_until_up()
        af.wait_for_dags(DAG_ID, SLEEPER, CONTROLLER, *COST_DAGS)
        yield Bench(af, statsd)
    finally:
        # task processes start their own sessions: stopping the components' groups leaves them
        leftovers = descendants({proc.pid for proc in af.processes.values()})
        af.stop()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        statsd.close()
        stack.close()
        if os.environ.get("KEEP_AIRFLOW_HOME"):
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def call(af: Airflow, method: str, path: str, timeout: float = 120, **kw: Any) -> Any:
    """Call the provider's or Airflow's API; 5xx and connection errors are retried."""
    for attempt in range(5):
        try:
            response = af.client().request(method, f"{af.url}{path}", timeout=timeout, **kw)
        except requests.ConnectionError:
            if attempt == 4:
                raise
            time.sleep(2)
            continue
        if response.status_code < 500 or attempt == 4:
            break
        time.sleep(1 + attempt)
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content else None


def paged(af: Airflow, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of an Airflow list endpoint (it answers at most ``[api] maximum_page_limit``, 100)."""
    items: list[dict[str, Any]] = []
    while True:
        page = call(af, "GET", path, params={**params, "limit": 100, "offset": len(items)})
        items += page[key]
        if not page[key] or len(items) >= page["total_entries"]:
            return items


def create_plan(af: Airflow, plan: dict[str, Any]) -> dict[str, Any]:
    return dict(call(af, "POST", f"{API}/plans", timeout=900, json=plan)["plan"])


def plans_named(af: Airflow, names: set[str]) -> list[dict[str, Any]]:
    found = call(af, "GET", f"{API}/plans", params={"dag_id": DAG_ID, "limit": 1000})["plans"]
    return [p for p in found if p["name"] in names]


def lot_counts(plans: list[dict[str, Any]]) -> collections.Counter[str]:
    total: collections.Counter[str] = collections.Counter()
    for plan in plans:
        total.update({state: n for state, n in plan["counts"].items() if n})
    return total


def finished(counts: collections.Counter[str]) -> int:
    return sum(counts[state] for state in FINAL_LOT)


def show(counter: collections.Counter[Any]) -> str:
    return ", ".join(f"{n} {key}" for key, n in counter.most_common()) or "none"


def wait_quiet(af: Airflow, timeout: float = 180) -> None:
    """Until no DAG run is queued or running (the daily DAGs' own first runs, a cancelled plan)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = call(af, "GET", "/api/v2/dags/~/dagRuns", params={"state": ["queued", "running"], "limit": 1})
        if found["total_entries"] == 0:
            return
        time.sleep(2)
    print(f"  (still {found['total_entries']} runs queued or running after {timeout:.0f}s)", flush=True)


def cancel_open(af: Airflow, names: set[str]) -> None:
    for plan in plans_named(af, names):
        if plan["state"] not in FINAL_PLAN:
            call(af, "POST", f"{API}/plans/{plan['name']}/cancel", timeout=600)


def explain_stall(bench: Bench, part: str) -> None:
    """What Airflow holds while plans do not advance: its runs, the lot runs' tasks, the scheduler log."""
    af = bench.af
    running = paged(af, "/api/v2/dags/~/dagRuns", "dag_runs", state=["running"])
    by_kind = collections.Counter((r["dag_id"], r["run_type"]) for r in running)
    bench.row(
        part,
        "running runs (dag, type)",
        show(collections.Counter({f"{d}/{t}": n for (d, t), n in by_kind.items()})),
    )
    runs = paged(af, f"/api/v2/dags/{DAG_ID}/dagRuns", "dag_runs", run_type=["backfill"])
    bench.row(part, f"{DAG_ID} backfill runs by state", show(collections.Counter(r["state"] for r in runs)))
    running_ids = {r["dag_run_id"] for r in runs if r["state"] == "running"}
    tis = paged(af, f"/api/v2/dags/{DAG_ID}/dagRuns/~/taskInstances", "task_instances")
    states = collections.Counter(str(ti["state"]) for ti in tis if ti["dag_run_id"] in running_ids)
    bench.row(part, "tasks of running lot runs", show(states))
    outside = sum(n for (_, run_type), n in by_kind.items() if run_type != "backfill")
    bench.row(
        part, "running runs outside a backfill", f"{outside} (the scheduler examines 20 running runs a loop)"
    )
    log = [
        line
        for line in (af.home / "scheduler.log").read_text(errors="replace").splitlines()
        if "scheduler_job_runner" in line  # the scheduler's own lines, not its task processes'
    ]
    lot_lines = [line for line in log if "backfill_plan__" in line]
    queued = [
        line for line in log if "Trying to enqueue tasks" in line or "WARNING" in line or "ERROR" in line
    ]
    bench.notes.append(
        f"[{part}] scheduler.log: {len(lot_lines)} scheduler lines name a lot run (backfill_plan__...)"
        + "".join(f"\n    {line[:400]}" for line in lot_lines[-4:])
        + "\n  its last lines queuing tasks (or warning):"
        + "".join(f"\n    {line[:400]}" for line in queued[-6:])
    )


# -- parts -------------------------------------------------------------------------------------


def create_batch(af: Airflow, prefix: str, sizes: list[int], parallelism: int, cursor: dt.date) -> set[str]:
    """Plans of ``sizes`` lots each, one after the other from ``cursor`` (each its own dates)."""
    names: set[str] = set()
    first = cursor
    for i, lots in enumerate(sizes):
        name = f"{prefix}-{i:03d}"
        create_plan(
            af,
            {
                "dag_id": DAG_ID,
                "name": name,
                "parallelism": parallelism,
                "ranges": [{"start": str(first), "end": str(first + dt.timedelta(days=lots - 1))}],
            },
        )
        names.add(name)
        first += dt.timedelta(days=lots)
    return names


def run_batch(bench: Bench, part: str, names: set[str], total: int, started: float, cap: float) -> float:
    """Wait for the batch's plans to end; rows for the batch; returns its lots per minute."""
    af = bench.af
    n = len(names)
    deadline = started + cap
    plans = plans_named(af, names)
    last_progress, last_done = time.monotonic(), 0
    while time.monotonic() < deadline:
        plans = plans_named(af, names)
        done = finished(lot_counts(plans))
        if done != last_done:
            last_progress, last_done = time.monotonic(), done
        if len(plans) == n and all(p["state"] in FINAL_PLAN for p in plans):
            break
        time.sleep(2)
    elapsed = time.monotonic() - started
    counts = lot_counts(plans)
    done = finished(counts)
    ended = sum(p["state"] in FINAL_PLAN for p in plans)
    if ended == n:
        bench.row(
            part,
            "all plans ended after",
            f"{elapsed:.1f}s ({show(collections.Counter(p['state'] for p in plans))})",
        )
    else:
        progress = (
            f"last lot finished {last_progress - started:.0f}s after the first POST"
            if last_done
            else "no lot finished"
        )
        bench.row(
            part,
            "STALLED at cap",
            f"{elapsed:.0f}s: {ended}/{n} plans ended; lots {show(counts)}; {progress}",
        )
    rate = done / elapsed * 60
    bench.row(part, "lots finished per minute", f"{rate:.1f} ({done}/{total} lots)")
    bench.loop_row(part, "loop duration ms", started, time.monotonic())
    passes = LoopStats.of(bench.statsd.between(PASS_STAT, started, time.monotonic()))
    bench.row(part, "driver pass ms", passes or "fewer than 2 passes timed")
    if ended < n:
        explain_stall(bench, part)
        cancel_open(af, names)
    return rate


def part_plans(bench: Bench, counts: list[int], lots: str, parallelism: int, cap: float) -> None:
    af = bench.af
    cursor = dt.date(2000, 1, 1)
    for n in counts:
        wait_quiet(af)
        part = f"plans x{n}"
        sizes = plan_sizes(n, lots)
        started = time.monotonic()
        names = create_batch(af, f"load-n{n}", sizes, parallelism, cursor)
        cursor += dt.timedelta(days=sum(sizes))
        bench.row(
            part,
            f"create {n} plans, {sum(sizes)} lots (POSTs, sequential)",
            f"{time.monotonic() - started:.1f}s",
        )
        run_batch(bench, part, names, sum(sizes), started, cap)


PAGE_POLLS = ((("/plans/{name}", "/plans/{name}/lots"), 2.5), (("/plans/{name}/calendar",), 4.0))
"""what an open Backfill plans page asks, and how often (seconds): PlanView.tsx's usePolled intervals"""


def reader(
    af: Airflow, names: list[str], stop: threading.Event, timings: list[float], seed: int, page: bool
) -> None:
    """One reader of the page's endpoints. ``page``: an open plan page, polling plan and lots every
    2.5 s and the calendar every 4 s (``PAGE_POLLS``), a new plan each cycle; otherwise a closed loop
    of plan, lots and calendar with no pause (a stress figure, not a user)."""
    client = af.client()
    i = seed
    due = {k: time.monotonic() + (seed % 10) / 4 for k in range(len(PAGE_POLLS))}  # pages opened apart
    while not stop.is_set():
        name = names[i % len(names)]
        for k, (paths, every) in enumerate(PAGE_POLLS):
            if page and time.monotonic() < due[k]:
                continue
            due[k] = time.monotonic() + every
            for path in paths:
                began = time.perf_counter()
                with contextlib.suppress(requests.RequestException):
                    client.get(f"{af.url}{API}{path.format(name=name)}", timeout=60)
                timings.append((time.perf_counter() - began) * 1000)
        i += 1
        if page:
            stop.wait(max(0.0, min(due.values()) - time.monotonic()))


def part_reads(
    bench: Bench, plans: int, lots: str, parallelism: int, readers: int, cap: float, page: bool, rounds: int
) -> None:
    """``rounds`` times: ``plans`` plans without readers, then as many again with ``readers`` threads
    reading the page's endpoints (``page``: at the page's own rhythm; else with no pause): read
    latency, and the lot throughput of each batch and of all batches with readers / without."""
    af = bench.af
    cursor = dt.date(2008, 1, 1)
    rates: dict[bool, list[float]] = {False: [], True: []}
    every_read: list[float] = []
    for round_ in range(1, rounds + 1):
        for with_readers in (False, True):
            wait_quiet(af)
            kind = "pages" if page else "closed-loop readers"
            part = f"reads {round_}, {readers} {kind}" if with_readers else f"reads {round_}, no reader"
            sizes = plan_sizes(plans, lots)
            started = time.monotonic()
            prefix = f"read{round_}-{'r' if with_readers else 'q'}"
            names = create_batch(af, prefix, sizes, parallelism, cursor)
            cursor += dt.timedelta(days=sum(sizes))
            stop = threading.Event()
            timings: list[float] = []
            threads = [
                threading.Thread(target=reader, args=(af, sorted(names), stop, timings, k, page), daemon=True)
                for k in range(readers if with_readers else 0)
            ]
            for thread in threads:
                thread.start()
            rate = run_batch(bench, part, names, sum(sizes), started, cap)
            if rate:
                rates[with_readers].append(rate)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            if timings:
                bench.row(part, "read latency ms (plan, lots, calendar)", LoopStats.of(timings))
                every_read += timings
    if every_read:
        bench.row("reads", f"read latency ms, all {rounds} rounds", LoopStats.of(every_read))
    if rates[False] and rates[True]:
        ratio = statistics.mean(rates[True]) / statistics.mean(rates[False])
        each = ", ".join(f"{w / q:.2f}" for q, w in zip(rates[False], rates[True], strict=False))
        bench.row("reads", "lot throughput with readers / without", f"{ratio:.2f} (rounds: {each})")


def part_busy(bench: Bench, sleepers: int, sleep_s: float, lots: int, cap: float) -> None:
    af = bench.af
    wait_quiet(af)
    for i in range(sleepers):
        call(
            af,
            "POST",
            f"/api/v2/dags/{SLEEPER}/dagRuns",
            json={"dag_run_id": f"sleeper_{i:02d}", "logical_date": None, "conf": {"seconds": sleep_s}},
        )
    started = time.monotonic()
    running = 0
    while time.monotonic() < started + 300:
        tis = call(
            af, "GET", f"/api/v2/dags/{SLEEPER}/dagRuns/~/taskInstances", params={"state": ["running"]}
        )
        running = tis["total_entries"]
        if running >= sleepers:
            break
        time.sleep(2)
    bench.row(
        "busy", f"{sleepers} {SLEEPER} tasks running", f"{running} after {time.monotonic() - started:.0f}s"
    )

    first = dt.date(2005, 1, 1)
    started = time.monotonic()
    create_plan(
        af,
        {
            "dag_id": DAG_ID,
            "name": "beside-busy",
            "parallelism": 2,
            "ranges": [{"start": str(first), "end": str(first + dt.timedelta(days=lots - 1))}],
        },
    )
    plan: dict[str, Any] = {}
    while time.monotonic() < started + cap:
        plan = call(af, "GET", f"{API}/plans/beside-busy")
        if plan["state"] in FINAL_PLAN:
            break
        time.sleep(2)
    elapsed = time.monotonic() - started
    counts = collections.Counter({s: n for s, n in plan["counts"].items() if n})
    if plan["state"] in FINAL_PLAN:
        bench.row("busy", f"{lots}-lot plan beside {sleepers} runs", f"{plan['state']} after {elapsed:.1f}s")
    else:
        bench.row(
            "busy",
            f"{lots}-lot plan beside {sleepers} runs",
            f"STALLED at cap {elapsed:.0f}s: {plan['state']}, lots {show(counts)}",
        )
    bench.loop_row("busy", "loop duration ms", started, time.monotonic())
    if plan["state"] not in FINAL_PLAN:
        explain_stall(bench, "busy")
        cancel_open(af, {"beside-busy"})
    for i in range(sleepers):  # end the sleepers (kills their tasks) before Airflow stops
        with contextlib.suppress(RuntimeError):
            call(af, "PATCH", f"/api/v2/dags/{SLEEPER}/dagRuns/sleeper_{i:02d}", json={"state": "failed"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # their supervisors see the run failed and kill the tasks
        tis = call(
            af, "GET", f"/api/v2/dags/{SLEEPER}/dagRuns/~/taskInstances", params={"state": ["running"]}
        )
        if tis["total_entries"] == 0:
            break
        time.sleep(2)


def process_tree(pid: int, with_children: bool) -> list[Any]:
    import psutil

    pids = {pid} | (descendants({pid}) if with_children else set())
    found = []
    for one in pids:
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(one))
    return found


def cpu_seconds(processes: list[Any], reaped: bool = False) -> float:
    """CPU seconds the processes used so far; ``reaped``: with their children they have waited for
    (task processes that have ended)."""
    import psutil

    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
            if reaped:
                total += times.children_user + times.children_system
    return total


def rss_mb(processes: list[Any]) -> float:
    import psutil

    total = 0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total / 2**20


@dataclass
class Window:
    """What Airflow did during one measured window."""

    seconds: float
    loop: LoopStats | None
    statements: dict[str, float]
    cpu: dict[str, float]
    """component -> cores used on average (CPU seconds / wall seconds)"""
    rss: dict[str, float]
    """component -> peak resident memory, MB"""
    passes: LoopStats | None


def measure(bench: Bench, seconds: float) -> Window:
    """Loop time, SQL statements, CPU and memory of each component over ``seconds``.

    The scheduler counts without its children (the LocalExecutor's task processes); the api-server,
    dag-processor and triggerer with theirs."""
    af = bench.af
    trees = {
        name: process_tree(proc.pid, with_children=not name.startswith("scheduler"))
        for name, proc in af.processes.items()
        if not name.startswith("worker")
    }
    cpu_before = {name: cpu_seconds(tree) for name, tree in trees.items()}
    peak: dict[str, float] = collections.defaultdict(float)
    start = time.monotonic()
    while time.monotonic() < start + seconds:
        for name, tree in trees.items():
            peak[name] = max(peak[name], rss_mb(tree))
        time.sleep(2)
    end = time.monotonic()
    wall = end - start
    statements = {
        name.removeprefix("bench.statements."): bench.statsd.counted(name, start, end)
        for name in list(bench.statsd.counters)
        if name.startswith("bench.statements.")
    }
    return Window(
        seconds=wall,
        loop=bench.loop_stats(start, end),
        statements=statements,
        cpu={name: (cpu_seconds(tree) - cpu_before[name]) / wall for name, tree in trees.items()},
        rss=dict(peak),
        passes=LoopStats.of(bench.statsd.between(PASS_STAT, start, end)),
    )


def statements_per_loop(window: Window) -> float | None:
    loops = window.loop.n if window.loop else 0
    return window.statements.get("scheduler", 0) / loops if loops else None


def window_rows(bench: Bench, part: str, side: str, window: Window) -> None:
    bench.row(part, f"{side}: scheduler loop ms", window.loop or "fewer than 2 samples")
    per_loop = statements_per_loop(window)
    bench.row(part, f"{side}: scheduler SQL statements per loop", f"{per_loop:.1f}" if per_loop else "n/a")
    bench.row(
        part,
        f"{side}: SQL statements per second by component",
        ", ".join(f"{name} {n / window.seconds:.1f}" for name, n in sorted(window.statements.items()))
        or "none",
    )
    bench.row(
        part,
        f"{side}: CPU (cores) by component",
        ", ".join(f"{name} {cores:.2f}" for name, cores in window.cpu.items()),
    )
    bench.row(
        part,
        f"{side}: peak RSS MB by component",
        ", ".join(f"{name} {mb:.0f}" for name, mb in window.rss.items()),
    )
    if window.passes:
        bench.row(part, f"{side}: driver pass ms", window.passes)


def wait_running(af: Airflow, dag_id: str, timeout: float = 300) -> float:
    started = time.monotonic()
    while time.monotonic() < started + timeout:
        found = call(
            af, "GET", f"/api/v2/dags/{dag_id}/dagRuns", params={"state": ["running", "success"], "limit": 1}
        )
        if found["total_entries"]:
            break
        time.sleep(1)
    return time.monotonic() - started


def part_cost(bench: Bench, idle_s: float, active_s: float, lots: int) -> None:
    """A ``lots``-lot plan and Airflow's native backfill of as many runs of a twin DAG, one after
    the other on the same Airflow, each measured over ``active_s`` once its runs go."""
    af = bench.af
    part = "cost"
    wait_quiet(af)
    time.sleep(5)
    window_rows(bench, part, "idle", measure(bench, idle_s))
    first = dt.date(1990, 1, 1)
    last = first + dt.timedelta(days=lots - 1)
    plan_dag, native_dag = COST_DAGS

    started = time.monotonic()
    plan = create_plan(
        af,
        {
            "dag_id": plan_dag,
            "name": "cost-plan",
            "parallelism": 4,
            "ranges": [{"start": str(first), "end": str(last)}],
        },
    )
    bench.row(part, f"plan: create {plan['total_lots']:,} lots (POST)", f"{time.monotonic() - started:.1f}s")
    bench.row(
        part,
        "plan: first run going after",
        f"{wait_running(af, plan_dag):.1f}s",
    )
    plan_window = measure(bench, active_s)
    window_rows(bench, part, "plan", plan_window)
    done = finished(collections.Counter(call(af, "GET", f"{API}/plans/cost-plan")["counts"]))
    bench.row(part, "plan: lots finished", done)
    call(af, "POST", f"{API}/plans/cost-plan/cancel", timeout=600)
    wait_quiet(af)

    started = time.monotonic()
    backfill = call(
        af,
        "POST",
        "/api/v2/backfills",
        timeout=1800,
        json={
            "dag_id": native_dag,
            "from_date": f"{first}T00:00:00Z",
            "to_date": f"{last}T00:00:00Z",
            "max_active_runs": 4,
            "reprocess_behavior": "none",
        },
    )
    bench.row(
        part, f"native: create {lots:,} runs (POST /api/v2/backfills)", f"{time.monotonic() - started:.1f}s"
    )
    bench.row(part, "native: first run going after", f"{wait_running(af, native_dag):.1f}s")
    native_window = measure(bench, active_s)
    window_rows(bench, part, "native", native_window)
    runs = call(
        af, "GET", f"/api/v2/dags/{native_dag}/dagRuns", params={"state": ["success", "failed"], "limit": 1}
    )
    bench.row(part, "native: runs finished", runs["total_entries"])
    with contextlib.suppress(RuntimeError):  # 409 when Airflow already marked it completed
        call(af, "PUT", f"/api/v2/backfills/{backfill['id']}/cancel")
    for label, a, b in (
        (
            "loop mean ms",
            plan_window.loop.mean if plan_window.loop else None,
            native_window.loop.mean if native_window.loop else None,
        ),
        (
            "loop p95 ms",
            plan_window.loop.p95 if plan_window.loop else None,
            native_window.loop.p95 if native_window.loop else None,
        ),
        (
            "scheduler SQL statements per loop",
            statements_per_loop(plan_window),
            statements_per_loop(native_window),
        ),
    ):
        if a is not None and b:
            bench.row(part, f"plan / native: {label}", f"{a:.1f} / {b:.1f} = {a / b:.2f}x")


def plan_sizes(count: int, lots: str) -> list[int]:
    """Lots of each of ``count`` plans: a fixed number, or ``a-b`` cycling from a to b."""
    if "-" in lots:
        low, high = (int(x) for x in lots.split("-"))
        return [low + i % (high - low + 1) for i in range(count)]
    return [int(lots)] * count


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--postgres",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL of a PostgreSQL database to use, emptied before each part (default: SQLite)",
    )
    parser.add_argument(
        "--celery", action="store_true", help="CeleryExecutor: 2 schedulers, 2 workers (needs --postgres)"
    )
    parser.add_argument("--only", choices=PARTS, action="append", help="run these parts only")
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--active-seconds", type=float, default=90)
    parser.add_argument(
        "--big-lots", type=int, default=10_000, help="lots of the cost part's plan and native runs"
    )
    parser.add_argument("--plan-counts", default="1,50,200", help="numbers of plans created at once")
    parser.add_argument(
        "--lots-per-plan", default="1-10", help="lots of each plan: N, or A-B cycling from A to B"
    )
    parser.add_argument("--plan-parallelism", type=int, default=2)
    parser.add_argument(
        "--plans-cap", type=float, default=900, help="seconds before a batch counts as stalled"
    )
    parser.add_argument("--read-plans", type=int, default=50, help="plans of each batch of the reads part")
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument(
        "--read-rounds", type=int, default=3, help="batches without then with readers, alternating"
    )
    parser.add_argument(
        "--readers-closed-loop",
        action="store_true",
        help="readers ask again at once (a stress figure) instead of at the open page's rhythm",
    )
    parser.add_argument("--sleepers", type=int, default=24)
    parser.add_argument("--sleep-seconds", type=float, default=900)
    parser.add_argument("--busy-lots", type=int, default=3)
    parser.add_argument("--busy-cap", type=float, default=300)
    args = parser.parse_args()
    if importlib.util.find_spec("statsd") is None:
        sys.exit(
            "Airflow's StatsD metrics need the 'statsd' package: pip install statsd (or put it on PYTHONPATH)"
        )
    parts = args.only or list(PARTS)
    database = ("PostgreSQL" if args.postgres else "SQLite") + (
        ", CeleryExecutor" if args.celery else ", LocalExecutor"
    )
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    for part in parts:
        print(f"== {part} ({database})", flush=True)
        # enough executor slots and per-DAG task slots that the sleepers all run, and lots beside them
        extra = (
            {"AIRFLOW__CORE__PARALLELISM": "48", "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64"}
            if part == "busy"
            else {}
        )
        with running_bench(args.postgres, extra, celery=args.celery) as bench:
            try:
                if part == "cost":
                    part_cost(bench, args.idle_seconds, args.active_seconds, args.big_lots)
                elif part == "plans":
                    counts = [int(n) for n in args.plan_counts.split(",")]
                    part_plans(bench, counts, args.lots_per_plan, args.plan_parallelism, args.plans_cap)
                elif part == "reads":
                    part_reads(
                        bench,
                        args.read_plans,
                        args.lots_per_plan,
                        args.plan_parallelism,
                        args.readers,
                        args.plans_cap,
                        page=not args.readers_closed_loop,
                        rounds=args.read_rounds,
                    )
                else:
                    part_busy(bench, args.sleepers, args.sleep_seconds, args.busy_lots, args.busy_cap)
            except Exception as exc:
                bench.row(part, "ERROR", f"{type(exc).__name__}: {exc}")
                bench.notes.append(f"[{part}] scheduler.log tail:\n{bench.af.log_tail('scheduler', 30)}")
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            bench.row(part, "machine load average 1/5/15 min at end", f"{load} ({os.cpu_count()} CPUs)")
            rows += bench.rows
            notes += bench.notes
    width = [max(len(r[i]) for r in rows) for i in range(2)] if rows else [0, 0]
    print(f"\n== scheduler_load, {database}, parts: {', '.join(parts)}")
    for part, measure, value in rows:
        print(f"{part:<{width[0]}}  {measure:<{width[1]}}  {value}")
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
