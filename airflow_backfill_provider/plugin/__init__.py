"""The Airflow plugin: the REST API (and, later, the UI page) mounted by the api-server."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_backfill_provider.plugin.app import app


class BackfillPlugin(AirflowPlugin):
    name = "backfill_plans"
    fastapi_apps = [{"app": app, "url_prefix": "/backfill", "name": "Backfill plans"}]
