"""The Airflow plugin: the REST API and the "Backfill plans" page, mounted by the api-server.

The page is one React bundle (``www/``, built into ``www/dist``) served by the plugin's own app and
shown twice by Airflow's UI: in the navigation, and as a tab on every DAG's page. Both are called
"Backfill plans": Airflow's own "Backfills" tab is about native backfills.
"""

from __future__ import annotations

import functools
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_backfill_provider import __version__


@functools.cache
def _app() -> Any:
    from airflow_backfill_provider.plugin.app import create_app

    return create_app()


class _FastApiApps:
    """Imports the FastAPI app only when the api-server asks for it.

    Every Airflow process loads plugins (deserialising a DAG does); importing the app pulls in the
    api-server's own modules, which is slow and prints warnings into CLI output.
    """

    def __get__(self, obj: Any, owner: Any) -> list[dict[str, Any]]:
        return [{"app": _app(), "url_prefix": "/backfill", "name": "Backfill plans"}]


PAGE_NAME = "Backfill plans"
BUNDLE_URL = f"backfill/static/main.umd.cjs?v={__version__}"
"""relative to the UI's base URL, so a deployment under a sub-path finds it too"""
ICON_URL = "backfill/static/icon.svg"
ICON_DARK_URL = "backfill/static/icon-dark.svg"


class BackfillPlugin(AirflowPlugin):
    name = "backfill_plans"
    fastapi_apps = _FastApiApps()
    react_apps = [
        {
            "name": PAGE_NAME,
            "bundle_url": BUNDLE_URL,
            "destination": "nav",
            "url_route": "backfill-plans",
            "nav_top_level": True,
            "icon": ICON_URL,
            "icon_dark_mode": ICON_DARK_URL,
        },
        {
            # Airflow refuses a second entry with the same url_route, and loads a bundle URL once.
            "name": PAGE_NAME,
            "bundle_url": f"{BUNDLE_URL}&tab=dag",
            "destination": "dag",
            "url_route": "dag-backfill-plans",
        },
    ]
