"""How backfill plans load Airflow's scheduler, and how the scheduler serves many plans.

Three parts, each on a fresh Airflow of the test harness (scheduler, dag-processor, triggerer and
api-server as processes) with StatsD metrics sent to a UDP listener in this script:

1. ``loop``: ``airflow.scheduler.scheduler_loop_duration`` (ms): mean, p50, p95 with Airflow idle,
   then with one 10,000-lot plan active (daily lots of ``bench_one_task`` from 1990, parallelism 4).
2. ``plans``: lot throughput with 1, 10 and 50 plans created at once (each its own dates, 4 lots,
   parallelism 2): lots finished per minute and the time until every plan ended, or "stalled" with
   the counts when the cap is hit. Up to 0.1.0 each plan was a RUNNING run of the controller DAG,
   and the scheduler examines only ``[scheduler] max_dagruns_per_loop_to_schedule`` (20) running
   runs per loop, runs outside a backfill first: 50 plans starved their own lot runs. Since 0.2.0
   one driver run serves every plan.
3. ``busy``: a 3-lot plan beside 24 long RUNNING manual runs of ``bench_sleeper`` (apache/airflow#58554).

With ``--postgres URL`` that database is emptied before each part (SQLite: a new file each part).
Needs the ``statsd`` package (``pip install statsd``, or ``apache-airflow[statsd]``) where Airflow runs.

    python benchmarks/scheduler_load.py [--postgres URL] [--only loop|plans|busy] [sizes, see --help]
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
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.harness import COMPONENTS, Airflow, free_port, make_env

API = "/backfill/api/v1"
DAGS = Path(__file__).parent / "dags"
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
                if kind.startswith("ms"):
                    with contextlib.suppress(ValueError):
                        self.timers[name].append((now, float(value)))

    def between(self, stat: str, start: float, end: float) -> list[float]:
        return [ms for at, ms in list(self.timers.get(stat, ())) if start <= at <= end]

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
def running_bench(database_url: str | None, extra_env: dict[str, str]) -> Iterator[Bench]:
    """The harness's Airflow (``running_airflow``) with StatsD on and ``extra_env`` added."""
    statsd = StatsdListener()
    home = Path(tempfile.mkdtemp(prefix="airflow-home-"))
    port = free_port()
    env = make_env(home, port, database_url, DAGS)
    env.update(
        {
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(statsd.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
            # tags in the names: "dagrun.dependency-check,dag_id=...", to see which DAG's runs cost
            "AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED": "True",
            **extra_env,
        }
    )
    af = Airflow(home=home, port=port, env=env)
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
        for component in COMPONENTS:
            af.start(component)
        af.wait_until_up()
        af.wait_for_dags(DAG_ID, SLEEPER, CONTROLLER)
        yield Bench(af, statsd)
    finally:
        # task processes start their own sessions: stopping the components' groups leaves them
        leftovers = descendants({proc.pid for proc in af.processes.values()})
        af.stop()
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        statsd.close()
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


def part_loop(bench: Bench, idle_s: float, active_s: float, lots: int) -> None:
    af = bench.af
    wait_quiet(af)
    time.sleep(5)
    start = time.monotonic()
    time.sleep(idle_s)
    bench.loop_row("loop", f"idle {idle_s:.0f}s: loop duration ms", start, time.monotonic())

    first = dt.date(1990, 1, 1)
    last = first + dt.timedelta(days=lots - 1)
    started = time.monotonic()
    plan = create_plan(
        af,
        {
            "dag_id": DAG_ID,
            "name": "load-big",
            "parallelism": 4,
            "ranges": [{"start": str(first), "end": str(last)}],
        },
    )
    bench.row("loop", f"create {plan['total_lots']:,}-lot plan (POST)", f"{time.monotonic() - started:.1f}s")
    # measure once the plan runs lots (or after 120 s whatever it does)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        plan = call(af, "GET", f"{API}/plans/load-big")
        if plan["counts"].get("running", 0) or plan["counts"].get("success", 0):
            break
        time.sleep(1)
    bench.row("loop", "first lot running after", f"{time.monotonic() - started:.1f}s")
    done_before = finished(collections.Counter(plan["counts"]))
    start = time.monotonic()
    time.sleep(active_s)
    end = time.monotonic()
    plan = call(af, "GET", f"{API}/plans/load-big")
    bench.loop_row("loop", f"{lots:,}-lot plan active {active_s:.0f}s: loop duration ms", start, end)
    done = finished(collections.Counter(plan["counts"])) - done_before
    bench.row("loop", "  lots finished in that window", f"{done} ({done / (end - start) * 60:.1f}/min)")
    cancel_open(af, {"load-big"})


def part_plans(bench: Bench, sizes: list[int], lots: int, parallelism: int, cap: float) -> None:
    af = bench.af
    cursor = dt.date(2000, 1, 1)
    for n in sizes:
        wait_quiet(af)
        part = f"plans x{n}"
        names: set[str] = set()
        started = time.monotonic()
        for i in range(n):
            first = cursor + dt.timedelta(days=i * lots)
            name = f"load-n{n}-{i:02d}"
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
        cursor += dt.timedelta(days=n * lots)
        created = time.monotonic() - started
        total = n * lots
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
        bench.row(part, "create (POSTs, sequential)", f"{created:.1f}s")
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
        bench.row(part, "lots finished per minute", f"{done / elapsed * 60:.1f} ({done}/{total} lots)")
        bench.loop_row(part, "loop duration ms", started, time.monotonic())
        if ended < n:
            explain_stall(bench, part)
            cancel_open(af, names)


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
        "--only", choices=("loop", "plans", "busy"), action="append", help="run these parts only"
    )
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--active-seconds", type=float, default=90)
    parser.add_argument("--big-lots", type=int, default=10_000, help="lots of the loop part's plan")
    parser.add_argument("--plan-counts", default="1,10,50", help="numbers of plans created at once")
    parser.add_argument("--lots-per-plan", type=int, default=4)
    parser.add_argument("--plan-parallelism", type=int, default=2)
    parser.add_argument(
        "--plans-cap", type=float, default=600, help="seconds before a batch counts as stalled"
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
    parts = args.only or ["loop", "plans", "busy"]
    database = "PostgreSQL" if args.postgres else "SQLite"
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
        with running_bench(args.postgres, extra) as bench:
            try:
                if part == "loop":
                    part_loop(bench, args.idle_seconds, args.active_seconds, args.big_lots)
                elif part == "plans":
                    counts = [int(n) for n in args.plan_counts.split(",")]
                    part_plans(bench, counts, args.lots_per_plan, args.plan_parallelism, args.plans_cap)
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
