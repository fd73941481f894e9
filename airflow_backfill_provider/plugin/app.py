"""The REST API's FastAPI app (contract §4), mounted by the api-server at ``/backfill``.

Built by ``create_app``: routers per resource under ``/api/v1``, and the one error shape. The
sub-app gets the state Airflow's dependencies read (``request.app.state``), which a mounted app does
not share with the api-server's own app.
"""

from __future__ import annotations

from fastapi import FastAPI

from airflow_backfill_provider import __version__
from airflow_backfill_provider.plugin import errors
from airflow_backfill_provider.plugin.routes import driver, plans, steering

PREFIX = "/api/v1"


def create_app() -> FastAPI:
    app = FastAPI(
        title="Backfill plans",
        version=__version__,
        description="Backfill plans for Airflow 3: create, follow and steer plans. Base path /backfill/api/v1.",
    )
    errors.install(app)
    for module in (plans, steering, driver):
        app.include_router(module.router, prefix=PREFIX)
    return app
