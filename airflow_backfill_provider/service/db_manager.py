"""The provider's tables under ``airflow db migrate``: a provider DB manager, as edge3 and fab have.

``get_provider_info()`` lists :class:`BackfillDBManager` under ``db-managers``; Airflow's
``RunDBManager`` finds it through the ProvidersManager and, once Airflow's own schema is at head,
runs it after Airflow's migrations:

* a database without the tables: ``create_all`` from ``tables.Base.metadata``, stamped at head;
* a database whose tables were created on first use by ``tables.ensure_tables`` (no version
  table): stamped at the first revision (rows kept), then upgraded;
* a stamped database: ``alembic upgrade heads`` with the scripts in ``migrations/``.

Its alembic version table is ``alembic_version_backfill_plans``, beside Airflow's
``alembic_version``.
"""

from __future__ import annotations

from pathlib import Path

from airflow.utils.db_manager import BaseDBManager

from airflow_backfill_provider.service.tables import Base

PACKAGE_DIR = Path(__file__).resolve().parents[1]

# provider version -> alembic head it ships (``airflow db-manager migrate --to-version``)
_REVISION_HEADS_MAP: dict[str, str] = {
    "0.1.0": "be77cce6da29",
    "0.2.0": "3c1f2a9d7e41",
}


class BackfillDBManager(BaseDBManager):
    """Creates and migrates the backfill-plan tables (``backfill_plan``, ``_plan_dag``, ``_lot``, ``_driver``)."""

    metadata = Base.metadata
    version_table_name = "alembic_version_backfill_plans"
    migration_dir = (PACKAGE_DIR / "migrations").as_posix()
    alembic_file = (PACKAGE_DIR / "alembic.ini").as_posix()
    supports_table_dropping = True
    revision_heads_map = _REVISION_HEADS_MAP
