"""Row locks around every state change of a plan, on PostgreSQL and on SQLite alike.

PostgreSQL (and MySQL) lock rows with ``SELECT … FOR UPDATE``. SQLite has no row locks, and a
transaction that only read can be overtaken by another writer; there the same call starts writing at
once (an empty update of the row), which takes SQLite's single write lock for the rest of the
transaction: writers then run one after another, as row locks would make them.
"""

from __future__ import annotations

import contextlib
import threading
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


def start_writing(session: Session) -> None:
    """On SQLite, begin the transaction with a write, taking the database's write lock now.

    Python's sqlite3 begins a transaction only at the first write; a SAVEPOINT issued before that
    begins one of its own, which its RELEASE commits at once: a plan's rows would be committed
    before its runs are written. Writing first keeps every step of the caller in one transaction,
    and nobody can change what the caller reads next before it writes.
    """
    if _sqlite(session):
        session.execute(
            update(PlanRow)
            .where(PlanRow.id == -1)
            .values(state=PlanRow.state)
            .execution_options(synchronize_session=False)
        )


def lock_rows(query: Select[Any], session: Session, *, skip_locked: bool = False) -> list[Any]:
    """Rows of ``query`` locked until the transaction ends; ``skip_locked`` passes over rows others hold."""
    if _sqlite(session):
        start_writing(session)  # nobody can change the rows between read and write
        return list(session.scalars(query.execution_options(populate_existing=True)))
    return list(
        session.scalars(
            query.with_for_update(skip_locked=skip_locked).execution_options(populate_existing=True)
        )
    )


def is_locked(exc: BaseException) -> bool:
    """SQLite answered "database is locked": its one write lock stayed taken; the work may be repeated."""
    return isinstance(exc, OperationalError) and "locked" in str(exc)


_SQLITE_WRITER = threading.Lock()
"""one writing transaction of this process at a time on SQLite (see ``committed``)"""


def committed(session: Session, work: Callable[[], T], attempts: int = 6) -> T:
    """Run ``work`` and commit; when SQLite answers "database is locked", roll back and run it again.

    On SQLite the whole database has one write lock, and Airflow's own components wait at most 5 s
    for it (the scheduler exits when that runs out). So this process sends at most one writing
    transaction at a time (50 plans created at once queue here, not on the database), and a write
    refused with "database is locked" is tried again: every write of the service is safe to repeat
    (same name, same plan; steering is by state). Other errors, and other databases, are not retried;
    on any error the transaction is rolled back before it is raised.
    """
    sqlite = _sqlite(session)
    for attempt in range(attempts):
        try:
            with _SQLITE_WRITER if sqlite else contextlib.nullcontext():
                try:
                    result = work()
                    session.commit()
                except BaseException:
                    # locks go now, in this thread: not when the request's session is closed, which
                    # waits for the api-server's event loop (docs/operations.md, "SQLite")
                    session.rollback()
                    raise
            return result
        except OperationalError as exc:
            if not is_locked(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")
