"""Reads wait their turn so that Airflow's own work does not wait for them.

The api-server is one Python process that also serves every running task's execution API calls
(start, heartbeat, finish) and the plan driver's passes. Unbounded, twenty pages polling plans,
lots and calendars on two cores take enough of its CPU (and of its interpreter lock) that those
calls time out: tasks fail to start and plans stop moving (``benchmarks/scheduler_load.py
--only reads``). So this process handles at most ``[backfill] concurrent_reads`` of the provider's
reads at a time; the others wait on the event loop, holding no thread and no database connection.
A read then waits a little longer; a task never waits for a read.

The turn is taken once the caller is authenticated (``ReadTurn`` depends on Airflow's
``GetUserDep``), before anything is read: a caller without valid credentials gets its 401 at once
and never holds a turn another reader waits for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends

from airflow_backfill_provider import settings

_slots: list[asyncio.Semaphore] = []


def _slot() -> asyncio.Semaphore:
    if not _slots:
        _slots.append(asyncio.Semaphore(settings.concurrent_reads()))
    return _slots[0]


async def read_turn(user: GetUserDep) -> AsyncIterator[None]:
    """Wait for one of the process's read turns; hold it while the read runs."""
    async with _slot():
        yield


ReadTurn = [Depends(read_turn)]
"""``dependencies=ReadTurn`` on every GET route of the provider's app (a unit test checks)"""
