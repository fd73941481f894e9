"""The one plan driver: a trigger in Airflow's triggerer, started as a triggerer callback, not a DAG run.

Every ``driver_poll_interval`` seconds the trigger calls the service's driver endpoint, which
advances every active plan in one pass (``advance.py``). The service starts the driver itself,
writing a trigger row and the ``TriggererCallback`` row that owns it in one transaction (as Airflow
queues a deadline's async callback): the triggerer runs it within a second, no worker is involved,
and the scheduler has no DAG run of ours to examine on every loop (a driver run of the controller
DAG cost it about 5 SQL statements a loop). Its token is random, lives only in the trigger's kwargs
(which Airflow encrypts) and is stored here as a hash; it lets the driver do one thing: advance the
plans. When no plan is left to drive, the driver retires under the same lock as ``ensure_driver``,
so a plan created meanwhile always finds a driver.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from typing import Any

from airflow.models.callback import ACTIVE_STATES, Callback, TriggererCallback
from airflow.models.trigger import Trigger
from airflow.utils.state import CallbackState
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airflow_backfill_provider import settings
from airflow_backfill_provider.exceptions import BackfillError
from airflow_backfill_provider.service import metrics
from airflow_backfill_provider.service.advance import advance
from airflow_backfill_provider.service.datamodels import DriverPassOut
from airflow_backfill_provider.service.locking import committed, lock_rows, start_writing
from airflow_backfill_provider.service.lots import now
from airflow_backfill_provider.service.tables import DriverRow, PlanRow
from airflow_backfill_provider.states import DRIVEN_PLANS

log = logging.getLogger(__name__)
DRIVER_ID = 1
TRIGGER_CLASSPATH = "airflow_backfill_provider.engine.trigger.PlanDriverTrigger"


class DriverTokenError(BackfillError):
    code = "forbidden"
    status_code = 403


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def lock_driver(session: Session) -> DriverRow:
    """The driver's row, locked (created on first use)."""
    query = select(DriverRow).where(DriverRow.id == DRIVER_ID)
    start_writing(session)
    row = session.scalars(query.with_for_update().execution_options(populate_existing=True)).one_or_none()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(DriverRow(id=DRIVER_ID))
    except IntegrityError:
        pass  # created by a concurrent call
    return session.scalars(query.with_for_update().execution_options(populate_existing=True)).one()


def _matches(token: str | None, token_hash: str | None) -> bool:
    if not token or not token_hash or len(token) > 200:
        return False
    return hmac.compare_digest(_hash(token), token_hash)


def refuse_stranger(token: str | None, session: Session) -> None:
    """403 for a token that is not the current driver's, on a plain read before any lock: a
    stranger's call takes no row lock, no SQLite write lock and not this process's writer slot."""
    current = session.scalar(select(DriverRow.token_hash).where(DriverRow.id == DRIVER_ID))
    session.rollback()  # end the read: the pass begins its own transaction
    if not _matches(token, current):
        raise DriverTokenError("this token does not belong to the current plan driver")


def check_token(token: str | None, session: Session) -> DriverRow:
    """The locked driver row, if ``token`` is the current driver's; 403 otherwise (a retired driver's,
    or one replaced between ``refuse_stranger`` and this lock)."""
    row = lock_driver(session)
    if not _matches(token, row.token_hash):
        raise DriverTokenError("this token does not belong to the current plan driver")
    return row


def retire(row: DriverRow) -> None:
    row.callback_id = None
    row.token_hash = None
    row.updated_at = now()


def kick(plan: PlanRow, session: Session) -> None:
    """A plan just created, resumed or retried moves on in this request (its first lots get runs at
    once, not a poll later), and the driver runs to carry it on."""
    advance([plan], session)
    ensure_driver(session)


def ensure_driver(session: Session) -> str:
    """Start the driver unless it runs; returns the id of its triggerer callback."""
    row = lock_driver(session)
    if row.callback_id and _alive(row.callback_id, session):
        return row.callback_id
    token = secrets.token_urlsafe(32)
    row.callback_id = _start(token, session)
    row.token_hash = _hash(token)
    row.updated_at = now()
    session.flush()
    return row.callback_id


def _alive(callback_id: str, session: Session) -> bool:
    """The driver's callback still owns its trigger: the triggerer runs it, or will once one is up.

    A driver an earlier version started as a run of the controller DAG (``driver__…``) is not alive
    here: a callback replaces it, and the old trigger ends on its next pass (its token is no longer
    current).
    """
    try:
        key = uuid.UUID(callback_id)
    except ValueError:
        return False
    found = session.execute(select(Callback.state, Callback.trigger_id).where(Callback.id == key)).first()
    return found is not None and found.trigger_id is not None and found.state in ACTIVE_STATES


class _DriverCallback:
    """What the callback row records of the driver (``Callback.data``); never the token."""

    path = TRIGGER_CLASSPATH
    kwargs: dict[str, Any] = {}

    def serialize(self) -> dict[str, Any]:
        return {"path": self.path, "kwargs": self.kwargs}


def _start(token: str, session: Session) -> str:
    """A trigger running ``PlanDriverTrigger`` with ``token``, owned by a queued triggerer callback."""
    callback = TriggererCallback(_DriverCallback(), prefix="backfill_driver")
    callback.trigger = Trigger(
        classpath=TRIGGER_CLASSPATH,
        kwargs={"token": token, "poll_interval": settings.driver_poll_interval()},
    )
    callback.state = CallbackState.QUEUED
    session.add(callback)
    session.flush()
    return str(callback.id)


def drive(token: str | None, session: Session) -> DriverPassOut:
    """The driver's call: one pass over every plan it drives, or retire when there is none left.

    Plans being steered right now (their row locked) are left for the next pass.
    """

    started = time.perf_counter()
    row = check_token(token, session)
    driven = [s.value for s in DRIVEN_PLANS]
    plans = lock_rows(
        select(PlanRow).where(PlanRow.state.in_(driven)).order_by(PlanRow.id), session, skip_locked=True
    )
    advance(plans, session)
    left = session.scalar(select(func.count()).select_from(PlanRow).where(PlanRow.state.in_(driven))) or 0
    if not left:
        retire(row)
    session.flush()
    elapsed = (time.perf_counter() - started) * 1000
    metrics.driver_pass(dt.timedelta(milliseconds=elapsed), left)
    log.info("driver pass: %d plans advanced, %d active, %.1f ms", len(plans), left, elapsed)
    return DriverPassOut(plans=left, retire=not left, elapsed_ms=round(elapsed, 1))


KEEP_DRIVING_EVERY = 5.0
"""seconds between two of this process's ``keep_driving`` checks on reads"""
_kept_driving_at = [float("-inf")]


def keep_driving(session: Session) -> None:
    """Start the driver if plans need one and it is gone (after an upgrade, or a run failed by hand).

    Reads call this, committed: at most once every ``KEEP_DRIVING_EVERY`` seconds per process (the
    page's polls skip it; on SQLite it takes the process's write turn), then one small query when all
    is well, so plans never wait for the next write.
    """
    if time.monotonic() - _kept_driving_at[0] < KEEP_DRIVING_EVERY:
        return
    _kept_driving_at[0] = time.monotonic()
    committed(session, lambda: _keep_driving(session))


def _keep_driving(session: Session) -> None:
    row = session.get(DriverRow, DRIVER_ID)
    if row is not None and row.callback_id and _alive(row.callback_id, session):
        return
    if session.scalar(
        select(func.count()).select_from(PlanRow).where(PlanRow.state.in_([s.value for s in DRIVEN_PLANS]))
    ):
        ensure_driver(session)
