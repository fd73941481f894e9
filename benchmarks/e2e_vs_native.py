"""This engine against Airflow's native backfill, on the same running Airflow, alternating.

The same 30 daily intervals of a 3-task DAG at parallelism 4: through a backfill plan
(``POST /backfill/api/v1/plans``) and through ``airflow backfill create --max-active-runs 4``.
Each round uses fresh intervals (no run exists yet), and wall time is measured the same way for
both: from submission to the end of the last run, as Airflow records it. Each round prints both
sides and their ratio (engine / native); target: <= 1.0 in every round, the first included (it
carries the plan driver's start). Beside each side's wall time: when its submitting call returned,
when its first run started, and the CPU seconds each kind of component used meanwhile.

Then a 10,000-lot plan: p95 of ``GET /plans/{plan}`` and ``GET /plans/{plan}/lots``. Target < 200 ms.

    python benchmarks/e2e_vs_native.py [--rounds 5] [--postgres URL [--celery]]

``--celery``: the same on CeleryExecutor with two workers and two schedulers (the topology of
tests/celery and docker-compose.yaml, on loopback with a private Redis); run it beside a run
without it for LocalExecutor and Celery side by side, the native backfill the anchor of each.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import functools
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.scheduler_load import cpu_seconds, process_tree
from tests.integration.harness import Airflow, running_airflow
from tests.integration.plans import wait_run

DAG_ID = "bench_three_tasks"
API = "/backfill/api/v1"
DAYS = 30
PARALLELISM = 4


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def runs_between(af: Airflow, first: dt.date, last: dt.date) -> list[dict]:
    found = af.api(
        "GET",
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        params={
            "limit": 100,
            "logical_date_gte": f"{first}T00:00:00Z",
            "logical_date_lte": f"{last}T23:59:59Z",
        },
    )
    return found["dag_runs"]


@dataclass(frozen=True)
class Side:
    """One side of a round, in seconds from submission: the submitting call's return, the first
    run's start and the last run's end (the figure compared); and the CPU seconds each kind of
    component used meanwhile."""

    submitted: float
    first_start: float
    wall: float
    cpu: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.wall:.1f}s (submit {self.submitted:.1f}s, first run +{self.first_start:.1f}s)"


def cpu_by_kind(af: Airflow) -> dict[str, float]:
    """CPU seconds used so far by each kind of component (``scheduler-2`` counts as ``scheduler``,
    ``worker-1`` as ``worker``) with every process it started, reaped task processes included."""
    found: dict[str, float] = collections.defaultdict(float)
    for name, proc in af.processes.items():
        kind = name.split("-")[0] if name.startswith(("scheduler", "worker", "triggerer")) else name
        found[kind] += cpu_seconds(process_tree(proc.pid, with_children=True), reaped=True)
    return found


def measured(af: Airflow, side: Callable[[], Side]) -> Side:
    """``side`` with the CPU each kind of component used while it ran."""
    before = cpu_by_kind(af)
    done = side()
    after = cpu_by_kind(af)
    return replace(done, cpu={kind: after[kind] - before.get(kind, 0.0) for kind in sorted(after)})


def cpu_line(sides: list[Side]) -> str:
    kinds = sorted({kind for side in sides for kind in side.cpu})
    return ", ".join(
        f"{kind} {statistics.mean(side.cpu.get(kind, 0.0) for side in sides):.1f}" for kind in kinds
    )


def wait_runs(af: Airflow, first: dt.date, last: dt.date, submitted: dt.datetime, returned: float) -> Side:
    """Wait for the 30 runs to end; times from submission as Airflow records them."""
    while True:
        runs = runs_between(af, first, last)
        if len(runs) == DAYS and all(r["state"] in ("success", "failed") for r in runs):
            failed = [r["dag_run_id"] for r in runs if r["state"] != "success"]
            if failed:
                raise RuntimeError(f"runs failed: {failed}")
            return Side(
                submitted=returned,
                first_start=(min(parse_time(r["start_date"]) for r in runs) - submitted).total_seconds(),
                wall=(max(parse_time(r["end_date"]) for r in runs) - submitted).total_seconds(),
            )
        time.sleep(0.5)


def since(submitted: dt.datetime) -> float:
    return (dt.datetime.now(dt.timezone.utc) - submitted).total_seconds()


def engine_round(af: Airflow, first: dt.date, last: dt.date, name: str) -> Side:
    submitted = dt.datetime.now(dt.timezone.utc)
    af.api(
        "POST",
        f"{API}/plans",
        json={
            "dag_id": DAG_ID,
            "name": name,
            "parallelism": PARALLELISM,
            "ranges": [{"start": str(first), "end": str(last)}],
        },
    )
    return wait_runs(af, first, last, submitted, since(submitted))


def native_round(af: Airflow, first: dt.date, last: dt.date) -> Side:
    submitted = dt.datetime.now(dt.timezone.utc)
    af.airflow(
        "backfill",
        "create",
        "--dag-id",
        DAG_ID,
        "--from-date",
        str(first),
        "--to-date",
        str(last),
        "--max-active-runs",
        str(PARALLELISM),
    )
    return wait_runs(af, first, last, submitted, since(submitted))


WARM_UP_RUNS = 8
"""manual runs at once before the rounds: one first task for each of the 8 Celery slots (2 workers x 4)"""


def warm_up(af: Airflow) -> None:
    """Manual runs of the DAG before the rounds, measured by neither side, as many at once as there
    are worker slots: each worker process's first task (imports, parsing caches) would otherwise
    count against whichever side goes first. The plan driver's start is not warmed: the engine's
    first round carries it."""
    names = [f"warm_up_{n}" for n in range(WARM_UP_RUNS)]
    for name in names:
        af.api("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"dag_run_id": name, "logical_date": None})
    for name in names:
        wait_run(af, DAG_ID, name, timeout=300)


def wait_plan_closed(af: Airflow, name: str) -> None:
    while af.api("GET", f"{API}/plans/{name}")["state"] not in ("success", "failed", "cancelled"):
        time.sleep(0.5)


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def read_latency(af: Airflow) -> tuple[float, float]:
    plan = af.api(
        "POST",
        f"{API}/plans",
        json={
            "dag_id": DAG_ID,
            "name": "bench-10k",
            "lot": "1h",
            "paused": True,
            "ranges": [{"start": "2010-01-01", "end": "2011-02-21T16:00:00"}],
        },
    )["plan"]
    assert plan["total_lots"] == 10_000, plan["total_lots"]
    client = af.client()
    timings: dict[str, list[float]] = {"plan": [], "lots": []}
    for _ in range(60):
        for key, path in (("plan", f"/plans/{plan['id']}"), ("lots", f"/plans/{plan['id']}/lots")):
            started = time.perf_counter()
            client.get(f"{af.url}{API}{path}", timeout=60).raise_for_status()
            timings[key].append((time.perf_counter() - started) * 1000)
    af.api("POST", f"{API}/plans/bench-10k/cancel")
    return p95(timings["plan"]), p95(timings["lots"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only-reads", action="store_true", help="skip the engine-vs-native rounds")
    parser.add_argument("--skip-reads", action="store_true", help="skip the 10,000-lot read latencies")
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--celery", action="store_true", help="CeleryExecutor, two workers, two schedulers")
    args = parser.parse_args()
    with running_airflow(args.postgres, dags_folder=Path(__file__).parent / "dags", celery=args.celery) as af:
        print("CeleryExecutor, 2 workers x 4, 2 schedulers" if args.celery else "LocalExecutor", flush=True)
        af.wait_for_dags(DAG_ID, "backfill_plan_controller")
        warm_up(af)
        engine: list[Side] = []
        native: list[Side] = []
        start = dt.date(2021, 1, 1)
        for round_no in range(0 if args.only_reads else args.rounds):
            for side in ("engine", "native") if round_no % 2 == 0 else ("native", "engine"):
                first = start
                last = first + dt.timedelta(days=DAYS - 1)
                start = last + dt.timedelta(days=1)
                if side == "engine":
                    name = f"bench-{round_no}"
                    engine.append(measured(af, functools.partial(engine_round, af, first, last, name)))
                    wait_plan_closed(af, name)  # its Backfill row must close before a native backfill
                else:
                    native.append(measured(af, functools.partial(native_round, af, first, last)))
                    time.sleep(31)  # the scheduler closes the native Backfill row on a 30 s timer
            print(
                f"round {round_no + 1}: engine {engine[-1]}  native {native[-1]}  "
                f"ratio {engine[-1].wall / native[-1].wall:.3f}  "
                f"({'engine' if round_no % 2 == 0 else 'native'} first); CPU s: engine "
                f"{cpu_line(engine[-1:])}; native {cpu_line(native[-1:])}",
                flush=True,
            )
        if engine and native:
            e, n = statistics.mean(s.wall for s in engine), statistics.mean(s.wall for s in native)
            ratios = [a.wall / b.wall for a, b in zip(engine, native, strict=True)]
            print(
                f"engine mean {e:.1f}s  native mean {n:.1f}s  ratio of means {e / n:.3f}; rounds "
                f"{', '.join(f'{r:.3f}' for r in ratios)}; worst {max(ratios):.3f} (target <= 1.0 in every round)"
            )
            print(f"CPU seconds a round, mean: engine {cpu_line(engine)}; native {cpu_line(native)}")
        if args.skip_reads:
            return
        plan_p95, lots_p95 = read_latency(af)
        print(
            f"10,000-lot plan: GET /plans/{{plan}} p95 {plan_p95:.0f} ms, GET /plans/{{plan}}/lots p95 "
            f"{lots_p95:.0f} ms (target < 200 ms)"
        )


if __name__ == "__main__":
    main()
