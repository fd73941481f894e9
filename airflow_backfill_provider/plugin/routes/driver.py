"""``/driver/pass``: the plan driver's call, authorised by the driver's own token, not by a user."""

from __future__ import annotations

from typing import Annotated

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.common.router import AirflowRouter
from fastapi import Header

from airflow_backfill_provider.reserved import DRIVER_TOKEN_HEADER
from airflow_backfill_provider.service import driver
from airflow_backfill_provider.service.datamodels import DriverPassOut
from airflow_backfill_provider.service.locking import committed

router = AirflowRouter(tags=["driver"], include_in_schema=False)


@router.post("/driver/pass", response_model=DriverPassOut)
def driver_pass(
    session: SessionDep, token: Annotated[str | None, Header(alias=DRIVER_TOKEN_HEADER)] = None
) -> DriverPassOut:
    driver.refuse_stranger(token, session)
    return committed(session, lambda: driver.drive(token, session))
