"""Which Stats call each lot move makes (``service/metrics.py``, pure but for Stats itself)."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_backfill_provider.service import metrics
from airflow_backfill_provider.states import LotState


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object]] = []

    def incr(self, name: str, count: int = 1) -> None:
        self.calls.append(("incr", name, count))

    def timing(self, name: str, value: object) -> None:
        self.calls.append(("timing", name, value))

    def gauge(self, name: str, value: object) -> None:
        self.calls.append(("gauge", name, value))


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    monkeypatch.setattr(metrics, "_stats", lambda: recorder)
    return recorder


START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("old", "new", "reason", "expected"),
    [
        ("pending", LotState.RUNNING, None, [("incr", "backfill_plan.lot.started", 1)]),
        ("running", LotState.RUNNING, None, []),
        (
            "running",
            LotState.SUCCESS,
            None,
            [("incr", "backfill_plan.lot.ended.success", 1), ("timing", "backfill_plan.lot.duration", dt.timedelta(minutes=2))],
        ),
        ("pending", LotState.SKIPPED, "already success", [("incr", "backfill_plan.lot.ended.skipped", 1)]),
        ("pending", LotState.WAITING, "waits until 2030-01-01: ...", [("incr", "backfill_plan.lot.waiting.time", 1)]),
        ("pending", LotState.WAITING, "outside the run window 22:00-06:00", [("incr", "backfill_plan.lot.waiting.run_window", 1)]),
        ("waiting", LotState.WAITING, "waits for lot 3 to succeed (order)", [("incr", "backfill_plan.lot.waiting.order", 1)]),
        ("pending", LotState.WAITING, "something new", [("incr", "backfill_plan.lot.waiting.other", 1)]),
        ("pending", LotState.PENDING, None, []),
    ],
)  # fmt: skip
def test_each_lot_move_is_one_metric(
    stats: Recorder, old: str, new: LotState, reason: str | None, expected: list
):
    metrics.lot_moved(old, new, reason, START, START + dt.timedelta(minutes=2))
    assert stats.calls == expected


def test_bulk_ends_and_driver_passes(stats: Recorder):
    metrics.lots_ended_in_bulk(LotState.CANCELLED, 0)
    metrics.lots_ended_in_bulk(LotState.CANCELLED, 40)
    metrics.driver_pass(dt.timedelta(milliseconds=12), 3)
    assert stats.calls == [
        ("incr", "backfill_plan.lot.ended.cancelled", 40),
        ("timing", "backfill_plan.driver.pass_duration", dt.timedelta(milliseconds=12)),
        ("gauge", "backfill_plan.plans.active", 3),
    ]
