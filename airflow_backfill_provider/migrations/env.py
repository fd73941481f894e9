"""Alembic environment of the provider's own tables, run by ``BackfillDBManager``.

Like Airflow's providers (edge3, fab): the connection is Airflow's metadata database, the version
table is the manager's own (``version_table=``), and only the provider's tables are compared.
"""

from __future__ import annotations

import contextlib
from logging import getLogger
from logging.config import fileConfig
from typing import Any

from airflow import settings
from alembic import context

from airflow_backfill_provider.service.db_manager import BackfillDBManager

config = context.config
version_table = BackfillDBManager.version_table_name
target_metadata = BackfillDBManager.metadata

# Airflow has configured logging already; a bare `alembic` run gets the ini file's
if not getLogger().handlers and config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def include_object(_: Any, name: str | None, type_: str, *args: Any) -> bool:
    """Compare the provider's tables only, never Airflow's (autogenerate)."""
    return not (type_ == "table" and name not in target_metadata.tables)


def run_migrations_offline() -> None:
    """Emit the SQL (``--show-sql-only``) instead of running it."""
    context.configure(
        url=settings.SQL_ALCHEMY_CONN,
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=True,
        version_table=version_table,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on Airflow's metadata database."""

    def process_revision_directives(context: Any, revision: Any, directives: list[Any]) -> None:
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops and script.upgrade_ops.is_empty():
                directives[:] = []
                print("No change detected in ORM schema, skipping revision.")

    with contextlib.ExitStack() as stack:
        connection = config.attributes.get("connection", None)
        if not connection:
            if settings.engine is None:
                raise RuntimeError("Airflow's ORM is not configured (settings.engine is None)")
            connection = stack.enter_context(settings.engine.connect())

        context.configure(
            connection=connection,
            transaction_per_migration=True,
            target_metadata=target_metadata,
            compare_type=True,
            compare_server_default=True,
            include_object=include_object,
            render_as_batch=True,
            process_revision_directives=process_revision_directives,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
