"""The calendar's aggregation (pure: lots in, cells out)."""

from __future__ import annotations

import datetime as dt

from airflow_backfill_provider.service import calendar as cal
from airflow_backfill_provider.states import LotState

UTC = dt.timezone.utc


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_a_day_shows_what_needs_attention_first_and_counts_every_lot():
    found = cal.calendar(
        [
            ("a", 0, at(2024, 1, 1), at(2024, 1, 2), "success"),
            ("a", 1, at(2024, 1, 2), at(2024, 1, 3), "failed"),
            ("a", 2, at(2024, 1, 2, 12), at(2024, 1, 2, 12), "success"),  # a cron trigger's zero-length lot
            ("b", 3, at(2024, 1, 1), at(2024, 1, 1), "pending"),
        ],
        "UTC",
    )
    assert found.granularity == "hour"  # two lots of "a" start on 2024-01-02
    found = cal.calendar(
        [
            ("a", 0, at(2024, 1, 1), at(2024, 1, 2), "success"),
            ("a", 1, at(2024, 1, 2), at(2024, 1, 4), "failed"),  # a 2-day lot colours both days
            ("b", 3, at(2024, 1, 1), at(2024, 1, 1), "pending"),
        ],
        "UTC",
    )
    assert found.granularity == "day" and found.dags == ["a", "b"]
    cells = {(c["dag_id"], c["day"].isoformat()): c for c in found.cells}
    assert set(cells) == {("a", "2024-01-01"), ("a", "2024-01-02"), ("a", "2024-01-03"), ("b", "2024-01-01")}
    assert (
        cells[("a", "2024-01-03")]["state"] is LotState.FAILED
        and cells[("a", "2024-01-03")]["first_lot"] == 1
    )
    assert (found.first_day, found.last_day) == (dt.date(2024, 1, 1), dt.date(2024, 1, 3))


def test_mixed_states_in_one_day_rank_failures_first():
    lots = [
        ("a", 0, at(2024, 1, 1), at(2024, 1, 3), "success"),
        ("a", 1, at(2024, 1, 2), at(2024, 1, 4), "failed"),
        ("a", 2, at(2024, 1, 3), at(2024, 1, 5), "running"),
    ]
    found = cal.calendar(lots, "UTC")
    cells = {c["day"].isoformat(): c for c in found.cells}
    assert cells["2024-01-02"]["state"] is LotState.FAILED
    assert cells["2024-01-02"]["counts"] == {"success": 1, "failed": 1}
    assert (
        cells["2024-01-03"]["counts"] == {"failed": 1, "running": 1} and cells["2024-01-03"]["first_lot"] == 1
    )
    assert cells["2024-01-04"]["state"] is LotState.RUNNING


def test_days_are_the_plans_local_days():
    found = cal.calendar([("a", 0, at(2024, 1, 1, 20), at(2024, 1, 2, 20), "success")], "Asia/Shanghai")
    assert [c["day"].isoformat() for c in found.cells] == ["2024-01-02", "2024-01-03"]


def test_hours_of_a_sub_daily_plan():
    lots = [("a", i, at(2024, 1, 1, i), at(2024, 1, 1, i + 1), "success") for i in range(6)]
    found = cal.calendar(lots, "UTC")
    assert found.granularity == "hour" and [c["hour"] for c in found.cells] == list(range(6))


def test_a_calendar_too_big_to_draw_folds_into_months(monkeypatch):
    monkeypatch.setattr(cal, "MAX_CELLS", 100)
    lots = [
        ("a", i, at(2000, 1, 1) + dt.timedelta(days=i), at(2000, 1, 2) + dt.timedelta(days=i), "pending")
        for i in range(400)
    ]
    found = cal.calendar(lots, "UTC")
    assert found.granularity == "month" and len(found.cells) == 14  # 2000-01 .. 2001-02
    assert sum(c["counts"]["pending"] for c in found.cells) == 400  # each lot counted once, in its month


def test_centuries_of_decade_long_lots_fold_into_years_and_the_work_stays_bounded():
    # 880 lots of 3660 days over years 1000-9998 (issue 18: 12 MB by month before)
    lots = []
    start = dt.datetime(1000, 1, 1, tzinfo=UTC)
    for i in range(880):
        end = start + dt.timedelta(days=3660)
        lots.append(("a", i, start, end, "pending" if i % 2 else "success"))
        start = end
    found = cal.calendar(lots, "UTC")
    assert found.granularity == "year"
    assert len(found.cells) <= cal.MAX_CELLS
    assert found.cells[0]["day"] == dt.date(1000, 1, 1) and found.last_day.year == start.year
    months = cal._keys(
        lots[0][2], lots[0][3], dt.date(1000, 1, 1), dt.date(1010, 1, 8), dt.timezone.utc, "month"
    )
    assert len(months) == 121 and months[-1][0] == dt.date(1010, 1, 1)  # counted, not walked by day
