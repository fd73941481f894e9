"""Submitting a plan, shared by ``POST /plans`` and the compat endpoints: the creation slot, then the
rights checks and the service's preview or create."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.plugin.security import CallerAccess
from airflow_backfill_provider.service import create as creating
from airflow_backfill_provider.service import planning
from airflow_backfill_provider.service.datamodels import CreatedOut, PreviewOut
from airflow_backfill_provider.service.locking import committed

_slots: dict[str, asyncio.Semaphore] = {}


def creation_slot(session: Any) -> asyncio.Semaphore:
    """Plans this api-server process creates at once: one on SQLite (one writer at a time anyway),
    ``[database] sql_alchemy_pool_size`` elsewhere. Fifty creations at once then wait here, holding
    no database connection and no thread, instead of emptying the connection pool that every other
    request of the process draws from."""
    dialect = session.get_bind().dialect.name
    if dialect not in _slots:
        from airflow.configuration import conf

        size = (
            1 if dialect == "sqlite" else max(1, conf.getint("database", "sql_alchemy_pool_size", fallback=5))
        )
        _slots[dialect] = asyncio.Semaphore(size)
    return _slots[dialect]


def submit(
    spec: BackfillPlan, caller: CallerAccess, session: Any, *, preview: bool = False, limit: int | None = None
) -> CreatedOut | PreviewOut:
    """Preview or create ``spec`` as ``caller``, who must be allowed to create runs of every DAG it touches."""
    return submit_all([spec], caller, session, preview=preview, limit=limit)[0]


def submit_all(
    specs: list[BackfillPlan],
    caller: CallerAccess,
    session: Any,
    *,
    preview: bool = False,
    limit: int | None = None,
    notes: Sequence[str] = (),
) -> list[CreatedOut] | list[PreviewOut]:
    """Preview or create the plans of one backfill as ``caller``: all of them in one transaction, or
    none. The service checks the rights (``service.rights``); ``notes`` (a translated request's
    warnings) are kept with each plan."""
    access, user = caller, caller.user
    if preview:
        return [planning.preview(spec, session, limit=limit, access=access, notes=notes) for spec in specs]

    def create() -> list[CreatedOut]:
        return [
            creating.create(spec, session, user=user.get_name(), access=access, notes=notes) for spec in specs
        ]

    return committed(session, create)
