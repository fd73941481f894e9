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
    "0.3.0": "7d2e5b1c9a30",
}


class BackfillDBManager(BaseDBManager):
    """Creates and migrates the backfill-plan tables (``backfill_plan``, ``_plan_dag``, ``_lot``, ``_driver``)."""

    metadata = Base.metadata
    version_table_name = "alembic_version_backfill_plans"
    migration_dir = (PACKAGE_DIR / "migrations").as_posix()
    alembic_file = (PACKAGE_DIR / "alembic.ini").as_posix()
    supports_table_dropping = True
    revision_heads_map = _REVISION_HEADS_MAP

    def downgrade(
        self, to_revision: str, from_revision: str | None = None, show_sql_only: bool = False
    ) -> None:
        """``airflow db-manager downgrade <this class> --to-version 0.1.0`` (or ``--to-revision R``;
        ``base`` drops the provider's tables): Airflow's base class leaves it to each manager.

        Every step looks before it changes (``migrations/steps.py``), so a downgrade or upgrade cut off
        half-way on SQLite is finished by running it again."""
        from alembic import command

        config = self.get_alembic_config()
        revision = f"{from_revision}:{to_revision}" if from_revision and show_sql_only else to_revision
        command.downgrade(config, revision=revision, sql=show_sql_only)
        self.log.info("Downgraded the %s database to %s", self.__class__.__name__, to_revision)
