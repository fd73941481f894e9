"""``/driver/pass``: the plan driver's call, authorised by the driver's own token, not by a user."""

from __future__ import annotations

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.common.router import AirflowRouter

from airflow_backfill_provider.plugin.security import DriverToken
from airflow_backfill_provider.service import driver
from airflow_backfill_provider.service.datamodels import DriverPassOut
from airflow_backfill_provider.service.locking import committed

router = AirflowRouter(tags=["driver"], include_in_schema=False)


@router.post("/driver/pass", response_model=DriverPassOut)
def driver_pass(session: SessionDep, token: DriverToken) -> DriverPassOut:
    return committed(session, lambda: driver.drive(token, session))
