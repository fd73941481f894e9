from airflow_backfill_provider.engine.controller import controller_dag  # noqa: F401
