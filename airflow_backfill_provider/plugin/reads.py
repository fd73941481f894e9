"""Reads wait their turn so that Airflow's own work does not wait for them.

The api-server is one Python process that also serves every running task's execution API calls
(start, heartbeat, finish) and the plan driver's passes. Twenty pages polling plans, lots and
calendars on two cores used to take enough of its CPU (and of its interpreter lock) that those
calls timed out: tasks failed to start and plans stopped moving (``benchmarks/scheduler_load.py
--only reads``). So this process handles at most ``[backfill] concurrent_reads`` of the provider's
GET requests at a time; the others wait on the event loop, holding no thread and no database
connection. A read then waits a little longer; a task never waits for a read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request

from airflow_backfill_provider import settings

_slots: list[asyncio.Semaphore] = []


def _slot() -> asyncio.Semaphore:
    if not _slots:
        _slots.append(asyncio.Semaphore(settings.concurrent_reads()))
    return _slots[0]


def install(app: FastAPI) -> None:
    """Bound the app's concurrent GET requests (the UI bundle's static files excepted)."""

    @app.middleware("http")
    async def bounded_reads(request: Request, call_next: Callable[[Request], Any]) -> Any:
        if request.method != "GET" or request.url.path.startswith(
            f"{request.scope.get('root_path', '')}/static"
        ):
            return await call_next(request)
        async with _slot():
            return await call_next(request)
