"""The Backfill plans page with a 10,000-lot plan: how long until it is drawn in a real Chromium.

Target (issue "the Backfill page", item 4): under 1 s on this machine. Three figures, medians of
``--rounds`` loads:
- the three API calls the plan view makes (plan, calendar, first page of lots), as a client sees them;
- "in page": from clicking the plan in the list to the plan drawn (header, counts, every calendar
  cell, the first page of lots): what a user waits for once Airflow's UI is open;
- "cold": from typing the plan's URL to the same point, Airflow's own UI start-up included (and
  how much of it passed before Airflow's UI asked for the page's bundle).

    python benchmarks/ui_page.py [--postgres URL] [--lots 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.harness import TEST_DAGS, running_airflow
from tests.ui.browser import Page, start_chromium

API = "/backfill/api/v1"
DRAWN = """
const cells = document.querySelectorAll('.bfp .calendar .cell').length;
const rows = document.querySelectorAll('.bfp table[aria-label="lots"] tbody tr').length;
const total = document.querySelector('[data-testid="total-lots"]');
return total && cells >= arguments[0] && rows > 0 ? performance.now() : null;
"""


def drawn_at(ui: Page, cells: int, timeout: float = 60) -> float:
    """performance.now() of the first poll that sees the plan drawn (polled every 10 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ui.driver.execute_script(DRAWN, cells)
        if found is not None:
            return float(found)
        time.sleep(0.01)
    raise TimeoutError(f"plan not drawn after {timeout}s:\n{ui.text()[:2000]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="SQLAlchemy URL of an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--lots", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with running_airflow(args.postgres, dags_folder=TEST_DAGS) as af:
        af.wait_for_dags("ledger_daily")
        start = dt.date(1990, 1, 1)
        end = start + dt.timedelta(days=args.lots - 1)
        response = af.client().post(
            f"{af.url}{API}/plans",
            json={
                "dag_id": "ledger_daily",
                "name": "page-bench",
                "paused": True,
                "ranges": [{"start": start.isoformat(), "end": end.isoformat()}],
            },
            timeout=300,
        )
        response.raise_for_status()
        plan = response.json()["plan"]
        assert plan["total_lots"] == args.lots, plan["total_lots"]
        calls: dict[str, list[float]] = {"plan": [], "calendar": [], "lots": []}
        client = af.client()
        for _ in range(args.rounds):
            for name, path in (
                ("plan", f"/plans/{plan['id']}"),
                ("calendar", f"/plans/{plan['id']}/calendar"),
                ("lots", f"/plans/{plan['id']}/lots?limit=50"),
            ):
                began = time.perf_counter()
                client.get(f"{af.url}{API}{path}", timeout=60).raise_for_status()
                calls[name].append((time.perf_counter() - began) * 1000)
        size = len(client.get(f"{af.url}{API}/plans/{plan['id']}/calendar", timeout=60).content)

        driver = start_chromium()
        try:
            ui = Page(driver, af, "admin")
            cold, warm, fetched, host = [], [], [], []
            for _ in range(args.rounds):
                ui.open(f"/plugin/backfill-plans?plan={plan['id']}")
                cold.append(drawn_at(ui, args.lots))
                host.append(
                    driver.execute_script(
                        "return performance.getEntriesByType('resource')"
                        ".find(e => e.name.includes('main.umd.cjs')).startTime"
                    )
                )
                ui.open("/plugin/backfill-plans")
                link = ui.one('tr[data-plan="page-bench"] a')
                clicked = driver.execute_script("return performance.now()")
                link.click()
                drawn = drawn_at(ui, args.lots)
                warm.append(drawn - clicked)
                answered = driver.execute_script(
                    "return Math.max(...performance.getEntriesByType('resource')"
                    ".filter(e => e.name.includes('/calendar')).map(e => e.responseEnd))"
                )
                fetched.append(answered - clicked)
        finally:
            driver.quit()

    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.lots}-lot plan, {backend}, medians of {args.rounds} rounds")
    for name, values in calls.items():
        print(f"  GET {name:9s} {statistics.median(values):7.1f} ms")
    print(f"  calendar answer {size / 1024:.0f} KiB")
    print(f"  calendar answered, in page (click -> last byte):       {statistics.median(fetched):7.1f} ms")
    print(f"  page drawn, in page (click in the list -> plan drawn): {statistics.median(warm):7.1f} ms")
    print(
        f"  page drawn, cold (URL typed -> plan drawn, Airflow UI start-up included): {statistics.median(cold):7.1f} ms"
    )
    print(
        f"    of which Airflow's UI before it asks for the page's bundle: {statistics.median(host):7.1f} ms"
    )


if __name__ == "__main__":
    main()
