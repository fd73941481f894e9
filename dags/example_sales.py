"""Example DAG for the backfill provider: a daily sales pipeline with templated SQL.

Its tasks only log what they would run, so it works anywhere. Try a plan on it:
``examples/plans/rebuild_week.yaml``.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, BaseOperator


class LoggedSqlOperator(BaseOperator):
    """Renders ``sql`` as a SQL operator would, and logs it instead of running it."""

    template_fields = ("sql",)
    template_fields_renderers = {"sql": "sql"}

    def __init__(self, *, sql: str, **kwargs):
        super().__init__(**kwargs)
        self.sql = sql

    def execute(self, context):
        self.log.info("would run: %s", self.sql)
        return self.sql


with DAG(
    "example_sales",
    schedule="@daily",
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=False,
    params={"table": "sales"},
    tags=["example", "backfill"],
) as dag:
    extract = LoggedSqlOperator(task_id="extract", sql="COPY raw_sales FROM 's3://bucket/sales/{{ ds }}/'")
    transform = LoggedSqlOperator(
        task_id="transform",
        sql="INSERT INTO staging_sales SELECT * FROM raw_sales WHERE ds = '{{ ds }}'",
    )
    load = LoggedSqlOperator(
        task_id="load", sql="INSERT INTO {{ params.table }} SELECT * FROM staging_sales WHERE ds = '{{ ds }}'"
    )
    notify_team = LoggedSqlOperator(task_id="notify_team", sql="SELECT 'sales loaded for {{ ds }}'")
    extract >> transform >> load >> notify_team
