"""Migration steps that look before they change, so a migration cut off half-way is repaired by the next run.

On SQLite each DDL statement commits on its own: a revision that failed at its fifth step leaves the
first four done while the version table still names the revision before. Run again (``airflow db
migrate``, or ``airflow db-manager downgrade``), the revision then passes over what is already done.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())


def has_table(table: str) -> bool:
    return table in _inspector().get_table_names()


def has_column(table: str, column: str) -> bool:
    return has_table(table) and column in {c["name"] for c in _inspector().get_columns(table)}


def has_index(table: str, index: str) -> bool:
    return has_table(table) and index in {i["name"] for i in _inspector().get_indexes(table)}


def add_column(table: str, column: sa.Column) -> None:
    if not has_column(table, column.name):
        op.add_column(table, column)


def drop_column(table: str, column: str) -> None:
    """Drop in place: rebuilding a parent table on SQLite (batch mode) would cascade-delete its lots."""
    if not has_column(table, column):
        return
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")  # SQLite 3.35+
    else:
        op.drop_column(table, column)


def drop_index(index: str, table: str) -> None:
    if has_index(table, index):
        op.drop_index(index, table_name=table)


def drop_table(table: str) -> None:
    if has_table(table):
        op.drop_table(table)
