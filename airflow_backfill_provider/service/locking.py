"""Row locks around every state change of a plan, on PostgreSQL and on SQLite alike.

PostgreSQL (and MySQL) lock rows with ``SELECT … FOR UPDATE``. SQLite has no row locks, and a
transaction that only read can be overtaken by another writer; there the same call starts writing at
once (an empty update of the row), which takes SQLite's single write lock for the rest of the
transaction: writers then run one after another, as row locks would make them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from airflow_backfill_provider.service.tables import PlanRow

T = TypeVar("T")


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def lock_plan(plan_id: int, session: Session) -> PlanRow | None:
    """The plan's row, locked until the transaction ends and read fresh (not from the session's cache)."""
    if _sqlite(session):
        session.execute(
            update(PlanRow)
            .where(PlanRow.id == plan_id)
            .values(state=PlanRow.state)
            .execution_options(synchronize_session=False)
        )
    return session.scalars(
        Select(PlanRow)
        .where(PlanRow.id == plan_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def lock_rows(query: Select[Any], session: Session, *, skip_locked: bool = False) -> list[Any]:
    """Rows of ``query`` locked until the transaction ends; ``skip_locked`` passes over rows others hold."""
    if _sqlite(session):
        # take the database's write lock first: nobody can change the rows between read and write
        session.execute(
            update(PlanRow)
            .where(PlanRow.id == -1)
            .values(state=PlanRow.state)
            .execution_options(synchronize_session=False)
        )
        return list(session.scalars(query.execution_options(populate_existing=True)))
    return list(
        session.scalars(
            query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
        )
    )


def committed(session: Session, work: Callable[[], T], attempts: int = 6) -> T:
    """Run ``work`` and commit; when SQLite answers "database is locked", roll back and run it again.

    On SQLite every component waits at most 5 s for the one write lock; a busy scheduler can hold it
    longer. Every write of the service is safe to repeat (same name, same plan; steering is by state),
    so the whole transaction is simply tried again. Other errors, and other databases, are not retried.
    """
    for attempt in range(attempts):
        try:
            result = work()
            session.commit()
            return result
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            session.rollback()
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
