"""The REST API's FastAPI app, mounted by the api-server at ``/backfill``.

Built by ``create_app``: routers per resource under ``/api/v1``, the one error shape, and the UI
page's bundle under ``/static``. The
sub-app gets the state Airflow's dependencies read (``request.app.state``), which a mounted app does
not share with the api-server's own app.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from airflow_backfill_provider import __version__, signing
from airflow_backfill_provider.plugin import errors
from airflow_backfill_provider.plugin.routes import compat, driver, plans, steering

PREFIX = "/api/v1"
BUNDLE_DIR = Path(__file__).parent / "www" / "dist"
"""the UI page's built bundle, shipped in the wheel"""

# Browsers refuse a module script served as text/plain, which some systems map .cjs to.
mimetypes.add_type("application/javascript", ".cjs")
mimetypes.add_type("application/javascript", ".js")


def create_app() -> FastAPI:
    # lot runs carry signed dry-run tasks: without the private key the service cannot work, and says so
    # now, at the api-server's start, instead of falling back to any other secret
    signing.check_configured()
    return _app()


def openapi() -> dict[str, Any]:
    """The API's OpenAPI document, as ``/backfill/openapi.json`` answers it (the page's types are
    generated from it: ``plugin/www/openapi.json``, ``npm run codegen``)."""
    return _app().openapi()


def _app() -> FastAPI:
    app = FastAPI(
        title="Backfill plans",
        version=__version__,
        description="Backfill plans for Airflow 3: create, follow and steer plans. Base path /backfill/api/v1.",
    )
    errors.install(app)
    for module in (plans, steering, driver):
        app.include_router(module.router, prefix=PREFIX)
    app.include_router(compat.router)
    app.mount("/static", StaticFiles(directory=BUNDLE_DIR, check_dir=False), name="static")
    return app


if __name__ == "__main__":  # python -m airflow_backfill_provider.plugin.app plugin/www/openapi.json
    import json
    import sys

    Path(sys.argv[1]).write_text(json.dumps(openapi(), indent=2, sort_keys=True) + "\n")
