"""``airflow db migrate`` creates, stamps and keeps the provider's tables (``BackfillDBManager``).

Only the Airflow CLI runs, as subprocesses with the harness's environment; no Airflow component
is started. Every test gets fresh databases: a SQLite file, and a new PostgreSQL database on the
server of BACKFILL_TEST_POSTGRES_URL when it is set (dropped afterwards); a database Airflow alone
migrated is made once per backend and copied.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import airflow_backfill_provider
from airflow_backfill_provider import __version__
from airflow_backfill_provider.service.tables import Base
from tests.integration.harness import free_port, make_env

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("BACKFILL_TEST_POSTGRES_URL") else [])
VERSION_TABLE = "alembic_version_backfill_plans"
MANAGER = "airflow_backfill_provider.service.db_manager.BackfillDBManager"
MIGRATIONS = Path(airflow_backfill_provider.__file__).parent / "migrations"
UTC = dt.timezone.utc
ORM_CREATED = "Creating BackfillDBManager tables from the ORM"
FIRST_REVISION = "be77cce6da29"  # 0.1.0

# `airflow` as it was before the provider had a DB manager: it migrates Airflow's own tables only
WITHOUT_DB_MANAGER = (
    "from airflow.providers_manager import ProvidersManager\n"
    "ProvidersManager.db_managers = property(lambda self: [])\n"
    "from airflow.__main__ import main\n"
    "main()\n"
)

# The tables as ``tables.ensure_tables`` created them on first use, before the DB manager (0.1.0):
# frozen here, since tables.py moves on and databases made this way stay as they are.
LEGACY = sa.MetaData()
_UTC_DATETIME = sa.DateTime(timezone=True)
LEGACY_PLAN = sa.Table(
    "backfill_plan",
    LEGACY,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(250), unique=True, nullable=False),
    sa.Column("dag_id", sa.String(250), nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    sa.Column("total_lots", sa.Integer, nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("created_at", _UTC_DATETIME, nullable=False),
    sa.Column("started_at", _UTC_DATETIME),
    sa.Column("ended_at", _UTC_DATETIME),
    sa.Column("created_by", sa.String(250)),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("controller_run_id", sa.String(250)),
)
LEGACY_PLAN_DAG = sa.Table(
    "backfill_plan_dag",
    LEGACY,
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("backfill_plan.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("dag_id", sa.String(250), primary_key=True),
    sa.Column("backfill_id", sa.Integer, nullable=False),
    sa.Column("run_tasks", sa.JSON, nullable=False),
    sa.Column("dry_run_tasks", sa.JSON, nullable=False),
    sa.Column("self_dependency", sa.Boolean, nullable=False),
    sa.Column("parents", sa.JSON, nullable=False),
)
LEGACY_LOT = sa.Table(
    "backfill_lot",
    LEGACY,
    sa.Column("plan_id", sa.Integer, sa.ForeignKey("backfill_plan.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("dag_id", sa.String(250), nullable=False),
    sa.Column("start", _UTC_DATETIME, nullable=False),
    sa.Column("end", _UTC_DATETIME, nullable=False),
    sa.Column("label", sa.String(100), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("run_id", sa.String(250)),
    sa.Column("logical_date", _UTC_DATETIME),
    sa.Column("start_date", _UTC_DATETIME),
    sa.Column("end_date", _UTC_DATETIME),
    sa.Column("timeline", sa.JSON, nullable=False),
    sa.Index("backfill_lot_plan_state", "plan_id", "state"),
)
LEGACY_ROWS: dict[str, list[dict[str, Any]]] = {
    "backfill_plan": [
        {
            "id": 1,
            "name": "kept-plan",
            "dag_id": "ledger_daily",
            "content_hash": "a" * 64,
            "spec": {"dag_id": "ledger_daily", "ranges": [{"start": "2024-08-01", "end": "2024-08-02"}]},
            "timezone": "UTC",
            "state": "running",
            "total_lots": 1,
            "warnings": ["one warning"],
            "created_at": dt.datetime(2024, 8, 1, 12, 0, tzinfo=UTC),
            "started_at": dt.datetime(2024, 8, 1, 12, 1, tzinfo=UTC),
            "ended_at": None,
            "created_by": "admin",
            "token_hash": "b" * 64,
            "controller_run_id": "manual__controller",
        }
    ],
    "backfill_plan_dag": [
        {
            "plan_id": 1,
            "dag_id": "ledger_daily",
            "backfill_id": 7,
            "run_tasks": ["t1"],
            "dry_run_tasks": [],
            "self_dependency": False,
            "parents": [],
        }
    ],
    "backfill_lot": [
        {
            "plan_id": 1,
            "idx": 0,
            "dag_id": "ledger_daily",
            "start": dt.datetime(2024, 8, 1, tzinfo=UTC),
            "end": dt.datetime(2024, 8, 2, tzinfo=UTC),
            "label": "2024-08-01",
            "state": "running",
            "reason": None,
            "run_id": "backfill__2024-08-01T00:00:00+00:00",
            "logical_date": dt.datetime(2024, 8, 1, tzinfo=UTC),
            "start_date": dt.datetime(2024, 8, 1, 12, 2, tzinfo=UTC),
            "end_date": None,
            "timeline": [{"at": "2024-08-01T12:02:00+00:00", "state": "running"}],
        }
    ],
}


def provider_tables() -> set[str]:
    """The provider's tables as tables.py defines them now."""
    return set(Base.metadata.tables)


def script_head() -> str:
    (head,) = ScriptDirectory(str(MIGRATIONS)).get_heads()
    return head


@dataclass
class Database:
    """A fresh metadata database and an Airflow environment (temp AIRFLOW_HOME) pointing at it."""

    url: str
    env: dict[str, str]
    engines: list[sa.Engine] = field(default_factory=list, repr=False)

    def engine(self) -> sa.Engine:
        engine = sa.create_engine(self.url)
        self.engines.append(engine)
        return engine

    def dispose(self) -> None:
        for engine in self.engines:
            engine.dispose()

    def airflow(self, *args: str, code: str | None = None) -> str:
        """Run ``airflow ARGS`` (or ``python -c CODE ARGS``); fail on a non-zero exit; return its output."""
        command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "airflow"]
        done = subprocess.run([*command, *args], env=self.env, capture_output=True, text=True, timeout=600)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"airflow {' '.join(args)} exited {done.returncode}:\n{output}"
        return output

    def migrate(self, *args: str) -> str:
        return self.airflow("db", "migrate", *args)

    def downgrade(self, *args: str) -> str:
        """``airflow db-manager downgrade`` as README says: Airflow 3.3's command finds a manager only in
        ``[database] external_db_managers``, not in the providers' ``db-managers``."""
        saved = dict(self.env)
        self.env["AIRFLOW__DATABASE__EXTERNAL_DB_MANAGERS"] = MANAGER
        try:
            return self.airflow("db-manager", "downgrade", MANAGER, *args, "--yes")
        finally:
            self.env.clear()
            self.env.update(saved)

    # -- what is in the database -----------------------------------------------------------------

    def table_names(self) -> set[str]:
        return set(sa.inspect(self.engine()).get_table_names())

    def version(self) -> list[str]:
        with self.engine().connect() as conn:
            return [row[0] for row in conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))]

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of the provider's tables, read through the reflected (not the ORM's) tables."""
        reflected = sa.MetaData()
        engine = self.engine()
        reflected.reflect(engine, only=sorted(provider_tables() & self.table_names()))
        with engine.connect() as conn:
            return {
                name: [
                    dict(row._mapping) for row in conn.execute(sa.select(table).order_by(*table.primary_key))
                ]
                for name, table in reflected.tables.items()
            }

    def schema(self) -> dict[str, Any]:
        """The provider's tables as reflected: columns, keys, indexes, unique constraints, FKs."""
        inspector = sa.inspect(self.engine())
        schema: dict[str, Any] = {}
        for table in sorted(provider_tables() & self.table_names()):
            schema[table] = {
                "columns": sorted(  # by name: a column added by a migration comes last
                    (c["name"], repr(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
                ),
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
                ),
                "foreign_keys": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        (f.get("options") or {}).get("ondelete"),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),
            }
        return schema


class Databases:
    """Fresh databases of one backend, made by calling it; all are removed after the test.

    ``airflow_only()``: a copy of a database that Airflow migrated without the DB manager (made once
    per backend, ``TEMPLATES``); ``fresh_schema()``: the provider's schema of a database migrated
    from empty (once per backend, ``FRESH_SCHEMAS``). Both spare the tests a full migration each.
    """

    def __init__(self, backend: str, home: Path) -> None:
        self.backend = backend
        self.home = home
        self.made: list[Database] = []
        self.pg_names: list[str] = []
        self.server = sa.make_url(os.environ["BACKFILL_TEST_POSTGRES_URL"]) if backend == "postgres" else None

    def pg_admin(self, sql: str) -> None:
        import psycopg2

        assert self.server is not None
        conn = psycopg2.connect(
            host=self.server.host,
            port=self.server.port,
            user=self.server.username,
            password=self.server.password,
            dbname=self.server.database,
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    def __call__(self, template: str | None = None) -> Database:
        """A new database, empty or (``template``: a SQLite file or PostgreSQL database) a copy."""
        home = Path(tempfile.mkdtemp(prefix="home", dir=self.home))
        dags = home / "dags"
        dags.mkdir()
        if self.server is None:
            url = f"sqlite:///{home / 'airflow.db'}"
            if template:
                shutil.copyfile(template, home / "airflow.db")
        else:
            name = f"backfill_dbm_{uuid.uuid4().hex[:12]}"
            self.pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
            self.pg_names.append(name)
            url = self.server.set(database=name).render_as_string(hide_password=False)
        database = Database(url=url, env=make_env(home, free_port(), url, dags))
        self.made.append(database)
        return database

    def airflow_only(self) -> Database:
        """A database with Airflow's tables at head and none of the provider's (as before 0.2.0)."""
        if self.backend not in TEMPLATES:
            db = self()
            db.airflow("db", "migrate", code=WITHOUT_DB_MANAGER)
            db.dispose()
            self.made.remove(db)  # kept for the session: the next tests copy it
            if self.server is None:
                TEMPLATES[self.backend] = db.url.removeprefix("sqlite:///")
            else:
                name = sa.make_url(db.url).database
                assert name
                self.pg_names.remove(name)
                TEMPLATES[self.backend] = name
        return self(TEMPLATES[self.backend])

    def fresh_schema(self) -> dict[str, Any]:
        if self.backend not in FRESH_SCHEMAS:
            fresh = self()
            fresh.migrate()
            FRESH_SCHEMAS[self.backend] = fresh.schema()
        return FRESH_SCHEMAS[self.backend]

    def remove(self) -> None:
        for database in self.made:
            database.dispose()
        for name in self.pg_names:
            self.pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TEMPLATES: dict[str, str] = {}
"""backend -> the SQLite file or PostgreSQL database ``Databases.airflow_only`` copies"""
FRESH_SCHEMAS: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    if "postgres" in TEMPLATES:
        Databases("postgres", Path()).pg_admin(
            f'DROP DATABASE IF EXISTS "{TEMPLATES.pop("postgres")}" WITH (FORCE)'
        )
    TEMPLATES.pop("sqlite", None)  # its file lives in a test's tmp_path, which pytest removes


@pytest.fixture(params=BACKENDS)
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """Fresh databases of one backend (``Databases``); all are removed after the test."""
    databases = Databases(request.param, tmp_path)
    try:
        yield databases
    finally:
        databases.remove()


def assert_at_head(db: Database) -> None:
    assert db.version() == [script_head()]
    # Airflow's own check: its heads and every DB manager's heads are in the database
    db.airflow("db", "check-migrations", "--migration-wait-timeout", "1")


def prepare_the_old_way(db: Database) -> dict[str, list[dict[str, Any]]]:
    """On a database Airflow migrated without the DB manager (``Databases.airflow_only``), the
    tables ``ensure_tables`` made, with rows."""
    assert "alembic_version" in db.table_names()
    assert not (provider_tables() | {VERSION_TABLE}) & db.table_names()
    engine = db.engine()
    LEGACY.create_all(engine)
    with engine.begin() as conn:
        for table in LEGACY.sorted_tables:
            conn.execute(table.insert(), LEGACY_ROWS[table.name])
    rows = db.rows()
    assert {name: len(r) for name, r in rows.items()} == {name: 1 for name in LEGACY_ROWS}
    return rows


def test_the_provider_registers_its_db_manager(new_database: Databases):
    db = new_database()
    out = db.airflow(
        code=(
            "import json\n"
            "from airflow.providers_manager import ProvidersManager\n"
            "from airflow_backfill_provider.service.db_manager import BackfillDBManager as M\n"
            "print(json.dumps([ProvidersManager().db_managers, M.revision_heads_map, M.version_table_name]))\n"
        )
    )
    managers, heads_map, version_table = json.loads(out.strip().splitlines()[-1])
    assert MANAGER in managers
    assert heads_map[__version__] == script_head()  # the release installed ships the newest revision
    assert version_table == VERSION_TABLE


def test_migrate_on_an_empty_database_creates_the_tables_at_head(new_database: Databases):
    db = new_database()
    assert not db.table_names()
    assert ORM_CREATED in db.migrate()
    assert provider_tables() | {VERSION_TABLE, "alembic_version", "dag_run"} <= db.table_names()
    assert_at_head(db)
    assert db.rows() == {name: [] for name in provider_tables()}


@pytest.mark.parametrize("flags", [(), ("--use-migration-files",)], ids=["orm", "migration-files"])
def test_migrate_stamps_tables_made_by_ensure_tables_and_keeps_their_rows(
    new_database: Databases, flags: tuple[str, ...]
):
    db = new_database.airflow_only()
    before = prepare_the_old_way(db)

    out = db.migrate(*flags)

    assert ORM_CREATED not in out
    if not flags:  # Airflow stamps the first revision, then upgrades
        assert "already exist without an Alembic version; stamping base revision" in out
    assert_at_head(db)
    after = db.rows()
    for name, rows in before.items():
        assert len(after[name]) == len(rows), name
        for old, new in zip(rows, after[name], strict=True):
            assert {k: v for k, v in old.items() if k in new} == {k: v for k, v in new.items() if k in old}
    # the upgraded database has the schema of a new one
    assert db.schema() == new_database.fresh_schema()


def test_migrate_twice_is_a_no_op_the_second_time(new_database: Databases):
    db = new_database()
    db.migrate()
    with db.engine().begin() as conn:  # a plan, so that a recreated table would show
        conn.execute(
            Base.metadata.tables["backfill_plan"].insert(),
            [sample_row(Base.metadata.tables["backfill_plan"])],
        )
    tables, schema, rows = db.table_names(), db.schema(), db.rows()
    assert len(rows["backfill_plan"]) == 1

    out = db.migrate()

    assert ORM_CREATED not in out
    assert "stamping" not in out
    assert "Running upgrade" not in out  # neither Airflow's alembic nor the provider's ran a revision
    assert (db.table_names(), db.schema(), db.rows()) == (tables, schema, rows)
    assert_at_head(db)


def test_migration_files_create_the_same_schema_as_the_orm(new_database: Databases):
    from_orm, from_files = new_database(), new_database()
    assert ORM_CREATED in from_orm.migrate()
    assert f"-> {script_head()}" in from_files.migrate("--use-migration-files")
    assert_at_head(from_orm)
    assert_at_head(from_files)
    assert from_files.schema() == from_orm.schema()
    # and that schema is tables.py's, name for name
    schema = from_orm.schema()
    assert set(schema) == provider_tables()
    for table in Base.metadata.sorted_tables:
        assert sorted((c[0], c[2]) for c in schema[table.name]["columns"]) == sorted(
            (c.name, c.nullable) for c in table.columns
        )
        assert schema[table.name]["primary_key"] == [c.name for c in table.primary_key]
        assert {i[0] for i in schema[table.name]["indexes"]} >= {i.name for i in table.indexes}
        assert {u[1] for u in schema[table.name]["unique"]} == {
            tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)
        } | {(c.name,) for c in table.columns if c.unique}
        assert schema[table.name]["foreign_keys"] == sorted(
            ((fk.parent.name,), fk.column.table.name, (fk.column.name,), fk.ondelete)
            for fk in table.foreign_keys
        )


def sample_row(table: sa.Table) -> dict[str, Any]:
    """A value for every column of ``table`` (whatever tables.py says today): 1, "x", a date, {}, False."""
    values: dict[str, Any] = {}
    for column in table.columns:
        type_ = column.type.impl_instance if isinstance(column.type, sa.TypeDecorator) else column.type
        if isinstance(type_, sa.Boolean):
            values[column.name] = False
        elif isinstance(type_, sa.Integer):
            values[column.name] = 1
        elif isinstance(type_, sa.String):
            values[column.name] = "x"
        elif isinstance(type_, sa.DateTime):
            values[column.name] = dt.datetime(2024, 8, 1, tzinfo=UTC)
        else:
            values[column.name] = {}
    return values


def test_downgrade_to_a_release_and_back_keeps_the_rows_and_base_drops_the_tables(
    new_database: Databases,
):
    db = new_database.airflow_only()
    prepare_the_old_way(db)
    db.migrate()
    assert_at_head(db)
    out = db.downgrade("--to-version", "0.1.0")
    assert db.version() == [FIRST_REVISION], out
    assert {c["name"] for c in sa.inspect(db.engine()).get_columns("backfill_plan")} >= {"token_hash"}
    assert "backfill_driver" not in db.table_names()
    assert [r["name"] for r in db.rows()["backfill_plan"]] == ["kept-plan"]
    db.migrate()  # and up again
    assert_at_head(db)
    assert db.schema() == new_database.fresh_schema()
    assert [r["name"] for r in db.rows()["backfill_plan"]] == ["kept-plan"]
    db.downgrade("--to-revision", "base")
    assert not (provider_tables() | {VERSION_TABLE}) & db.table_names() - {VERSION_TABLE}
    assert "dag_run" in db.table_names()  # Airflow's own tables stay


def test_a_migration_cut_off_half_way_is_finished_by_the_next_migrate(new_database: Databases):
    db = new_database.airflow_only()
    prepare_the_old_way(db)
    db.migrate()
    db.downgrade("--to-version", "0.1.0")
    # the first steps of 0.2.0's revision done, the version table still at 0.1.0: as SQLite leaves a
    # revision that failed at a later step (each DDL statement there commits on its own)
    with db.engine().begin() as conn:
        conn.execute(sa.text('ALTER TABLE backfill_plan ADD COLUMN "cursor" INTEGER DEFAULT 0 NOT NULL'))
        conn.execute(sa.text("ALTER TABLE backfill_plan DROP COLUMN token_hash"))
        Base.metadata.tables["backfill_driver"].create(conn)
    assert db.version() == [FIRST_REVISION]
    db.migrate()
    assert_at_head(db)
    assert {t: sorted(c[0] for c in s["columns"]) for t, s in db.schema().items()} == {
        t: sorted(c[0] for c in s["columns"]) for t, s in new_database.fresh_schema().items()
    }
    assert [r["name"] for r in db.rows()["backfill_plan"]] == ["kept-plan"]
