"""A real Airflow 3 for tests: scheduler, dag-processor, triggerer and api-server as processes.

Everything lives in a temporary AIRFLOW_HOME on a free loopback port, with real authentication
(SimpleAuthManager, users with passwords: an admin, a viewer, and a user with rights on a few DAGs). SQLite by default; PostgreSQL
when ``database_url`` is given. Also usable by hand for development:

    python -m tests.integration.harness [--postgres URL [--celery]]   # starts, prints the URL, Ctrl-C stops
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).parent
TEST_DAGS = HERE / "dags"
VERSIONED = HERE / "versioned"
# role -> (username, password): the user named after each SimpleAuthManager role
USERS = {
    "admin": ("admin", "admin-pass-1"),
    "viewer": ("viewer", "viewer-pass-1"),
    "scoped": ("scoped", "scoped-pass-1"),
    "author": ("author", "author-pass-1"),
    "auditor": ("auditor", "auditor-pass-1"),
    "creator": ("creator", "creator-pass-1"),
}
"""name -> (username, password); ``scoped`` has the USER role on a few DAGs only (``auth/scoped_auth.py``);
``author`` has Airflow's USER role on every DAG: may trigger and clear runs, may not read variables or
connections; ``auditor`` is a VIEWER who may not read task instances or logs; ``creator`` a USER who may
create runs but not change them (FAB's ``can_create`` without ``can_edit`` on DAG Runs), all in
``auth/scoped_auth.py``"""
ROLES = {
    "admin": "admin",
    "viewer": "viewer",
    "scoped": "user",
    "author": "user",
    "auditor": "viewer",
    "creator": "user",
}
SIGNING_PRIVATE_KEY = "ZsqRzmOx1CJr2ZwS7d9CbBGQzY/PYbWQy1QAGTVJVtY="
"""the test deployment's Ed25519 signing key (never use it elsewhere); its public key: signing_public_key()"""
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


@dataclass(frozen=True)
class Component:
    """One process of a topology: its ``airflow`` command and the settings only it has."""

    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


def local_topology() -> dict[str, Component]:
    """LocalExecutor: one of each component."""
    return {name: Component((name,)) for name in COMPONENTS}


def celery_topology(triggerers: int = 1) -> dict[str, Component]:
    """CeleryExecutor beyond one machine, on loopback: two schedulers (HA), ``triggerers`` triggerers
    and two Celery workers with their own names and log-server ports, the second also serving the
    ``backfill`` queue."""
    found = local_topology()
    for n in range(2, triggerers + 1):
        found[f"triggerer-{n}"] = Component(("triggerer",))
    found["scheduler"] = Component(
        ("scheduler",), {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port())}
    )
    found["scheduler-2"] = Component(
        ("scheduler",), {"AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(free_port())}
    )
    for name, queues in (("worker-1", "default"), ("worker-2", "default,backfill")):
        found[name] = Component(
            ("celery", "worker", "--queues", queues, "--concurrency", "4", "--celery-hostname", f"{name}@%h"),
            {
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                # task instances record which worker ran them (both run on this one host)
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "worker_names.worker_name",
                "BACKFILL_TEST_WORKER": name,
            },
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Airflow:
    """A running Airflow; ``client(user)`` gives an authenticated ``requests.Session``."""

    home: Path
    port: int
    env: dict[str, str]
    topology: dict[str, Component] = field(default_factory=local_topology)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dags_folder(self) -> Path:
        return self.home / "dags"

    @property
    def ledger(self) -> Path:
        return self.home / "ledger.jsonl"

    # -- processes ----------------------------------------------------------------------------

    def start(self, component: str) -> None:
        spec = self.topology[component]
        args = [*spec.command, "--port", str(self.port)] if component == "api-server" else list(spec.command)
        log = open(self.home / f"{component}.log", "ab")  # noqa: SIM115 - lives as long as the process
        env = {**self.env, **spec.env}
        if component != "api-server":  # workers, schedulers, triggerers: the public key only
            env["AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY"] = ""
        elif env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS") == "sqlite_busy.CONNECT_ARGS":
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "sqlite_busy.API_SERVER_CONNECT_ARGS"
        self.processes[component] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, component: str, sig: int = signal.SIGKILL, grace: float = 5) -> None:
        """Kill a component and every process it started (kill -9 by default; SIGKILL after ``grace``)."""
        proc = self.processes.pop(component)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)

    def stop(self) -> None:
        for component in list(self.processes):
            self.kill(component, signal.SIGTERM)

    def airflow(
        self, *args: str, check: bool = True, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run an ``airflow`` CLI command against this installation (``env``: settings of this call only)."""
        for attempt in range(5):
            done = subprocess.run(
                [sys.executable, "-m", "airflow", *args],
                env={**self.env, **(env or {})},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            # SQLite answers "database is locked" to a CLI beside four busy components: retry
            if "database is locked" not in done.stderr or attempt == 4:
                break
            time.sleep(1)
        if check and done.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{self.url}/api/v2/monitor/health", timeout=2).ok:
                    return
            time.sleep(0.5)
        raise TimeoutError(f"api-server not up after {timeout}s:\n{self.log_tail('api-server')}")

    def log_tail(self, component: str, lines: int = 60) -> str:
        path = self.home / f"{component}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    # -- API ----------------------------------------------------------------------------------

    def token(self, user: str = "admin") -> str:
        if user not in self._tokens:
            username, password = USERS[user]
            response = requests.post(
                f"{self.url}/auth/token", json={"username": username, "password": password}, timeout=30
            )
            response.raise_for_status()
            self._tokens[user] = response.json()["access_token"]
        return self._tokens[user]

    def client(self, user: str | None = "admin") -> requests.Session:
        session = requests.Session()
        if user is not None:
            session.headers["Authorization"] = f"Bearer {self.token(user)}"
        return session

    def api(self, method: str, path: str, user: str = "admin", **kw: Any) -> Any:
        """Call Airflow's own API; a 5xx is retried (SQLite can answer "database is locked")."""
        for attempt in range(5):
            response = self.client(user).request(method, f"{self.url}{path}", timeout=60, **kw)
            if response.status_code < 500 or attempt == 4:
                break
            time.sleep(1 + attempt)
        response.raise_for_status()
        return response.json() if response.content else None

    def _dag_known(self, dag_id: str) -> bool:
        try:
            return self.client().get(f"{self.url}/api/v2/dags/{dag_id}", timeout=30).status_code == 200
        except requests.RequestException:  # the api-server is busy starting: ask again
            return False

    def reparse(self, dag_id: str) -> None:
        """Ask the dag-processor to parse this DAG's file now (the UI's "Reparse Dag" button), not
        ``min_file_process_interval`` after its last parse."""
        file_token = self.api("GET", f"/api/v2/dags/{dag_id}")["file_token"]
        self.api("PUT", f"/api/v2/parseDagFile/{file_token}")

    def wait_for_dags(self, *dag_ids: str, timeout: float = 240) -> None:
        """Wait until the dag-processor has parsed these DAGs and the api-server knows them."""
        deadline = time.monotonic() + timeout
        missing = set(dag_ids)
        while time.monotonic() < deadline:
            missing = {d for d in missing if not self._dag_known(d)}
            if not missing:
                return
            time.sleep(1)
        raise TimeoutError(
            f"DAGs not parsed after {timeout}s: {sorted(missing)}\n{self.log_tail('dag-processor')}"
        )

    def sql(self, query: str, **params: Any) -> list[Any]:
        """Rows of a read-only query on Airflow's database (what no API shows: trigger rows, our tables)."""
        from sqlalchemy import create_engine, text

        engine = create_engine(self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(query), params))
        finally:
            engine.dispose()

    def ledger_entries(self) -> list[dict[str, Any]]:
        if not self.ledger.exists():
            return []
        return [json.loads(line) for line in self.ledger.read_text().splitlines() if line.strip()]


def signing_public_key() -> str:
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(SIGNING_PRIVATE_KEY)).public_key()
    return base64.b64encode(
        key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()


def make_env(home: Path, port: int, database_url: str | None, dags_folder: Path) -> dict[str, str]:
    passwords = {name: password for name, password in USERS.values()}
    (home / "passwords.json").write_text(json.dumps(passwords))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "16",
            "AIRFLOW__CORE__AUTH_MANAGER": "scoped_auth.ScopedAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{name}:{ROLES[key]}" for key, (name, _) in USERS.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": "test-jwt-secret-" + str(port),
            "AIRFLOW__API__SECRET_KEY": "test-secret-" + str(port),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            # runs come from plans and tests only, none from the test DAGs' own schedules: at start-up
            # 30 DAGs' first daily runs at once held SQLite's api-server connections for 30 s (the
            # pool's timeout), so the start took 60 s more one time in three
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "600",
            # a task whose worker was killed is found after 30 s, not 300 s (the kill -9 tests)
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            # and a task left running by a killed scheduler is reset about 20 s after the kill (the
            # scheduler's job is dead once its heartbeat is 20 s old, checked every 5 s), not 300 s
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "20",
            "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "5",
            # Airflow keeps rendered fields for a DAG's newest runs only (30 by default): with 1, a plan's
            # second lot already drops the first's, as 30 newer runs do in production
            "AIRFLOW__CORE__NUM_DAG_RUNS_TO_RETAIN_RENDERED_FIELDS": "1",
            # a DAG file changed by a test is written as its new version 5 s after the last, not 30 s
            "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
                    {
                        "name": "versioned",
                        "classpath": "versioned_bundle.DirVersionBundle",
                        "kwargs": {"root": str(home / "versioned")},
                    },
                ]
            ),
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            # the driver passes every second, not every 2 s: tests wait less for lots and plans to end
            "AIRFLOW__BACKFILL__DRIVER_POLL_INTERVAL": "1",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # the deployment's notification targets: the test notifier under two names (the label is
            # the deployment's argument; subject and message are what the provider writes)
            "AIRFLOW__BACKFILL__NOTIFICATION_TARGETS": json.dumps(
                {
                    name: {
                        "notifier": "ledger_notifier.LedgerNotifier",
                        "kwargs": {"label": name},
                        "message": "message",
                        "subject": "subject",
                    }
                    for name in ("ledger", "sms")
                }
            ),
            # the service signs with the private key; workers (here: the same host) verify with the public
            "AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY": SIGNING_PRIVATE_KEY,
            "AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS": signing_public_key(),
            # the seeds' ids as the seed-shaped test DAGs, for the compat endpoints
            "AIRFLOW__BACKFILL__ID_MAP": str(HERE / "seed_id_map.yaml"),
            "BACKFILL_TEST_LEDGER": str(home / "ledger.jsonl"),
            # what a backfill may route work to, besides its DAGs' own pools and queues
            "AIRFLOW__BACKFILL__ALLOWED_POOLS": "backfill_allowed",
            "AIRFLOW__BACKFILL__ALLOWED_QUEUES": "backfill",
            # the connection form's Test button (Airflow's own API, off by default)
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # metrics go to a loopback UDP port a test may listen on (test_metrics.py)
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(free_port()),
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(dags_folder), str(HERE / "auth"), os.environ.get("PYTHONPATH", "")])
            ),
        }
    )
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url or f"sqlite:///{home / 'airflow.db'}"
    if not database_url:
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS"] = "sqlite_busy.CONNECT_ARGS"
    return env


@contextlib.contextmanager
def running_redis() -> Iterator[str]:
    """A private redis-server on loopback (Debian's ``redis-server``), no persistence; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.2)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def celery_env(database_url: str, broker_url: str) -> dict[str, str]:
    """CeleryExecutor settings; the result backend names its driver (SQLAlchemy 2.1 would load psycopg 3)."""
    backend = "db+postgresql+psycopg2://" + database_url.split("://", 1)[1]
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": backend,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": "default",
        # Airflow 3.3's task supervisor can miss a task process's exit and sleep this long (default
        # 5 s) before freeing the worker slot (docs/operations.md, "Short tasks"): 4 s lost on ~40 %
        # of tasks on two busy cores
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
    }


def make_home(dags_folder: Path) -> Path:
    """A new ``AIRFLOW_HOME`` with a copy of ``dags_folder`` and the versioned bundle ``make_env`` names."""
    home = Path(tempfile.mkdtemp(prefix="airflow-home-"))
    shutil.copytree(dags_folder, home / "dags", ignore=shutil.ignore_patterns("__pycache__"))
    # a second bundle that keeps versions (auth/versioned_bundle.py), its latest version named in CURRENT
    for version in ("v1", "v2"):
        (home / "versioned" / "versions" / version).mkdir(parents=True)
        shutil.copy(VERSIONED / "ledger_versioned.py", home / "versioned" / "versions" / version)
    (home / "versioned" / "CURRENT").write_text("v1")
    return home


@contextlib.contextmanager
def running_airflow(
    database_url: str | None = None,
    dags_folder: Path = TEST_DAGS,
    *,
    celery: bool = False,
    triggerers: int = 1,
    settings: dict[str, str] | None = None,
) -> Iterator[Airflow]:
    """A running Airflow whose DAGs folder is a copy of ``dags_folder`` (tests may add, change, delete DAGs).

    ``celery``: CeleryExecutor with two schedulers, two workers and ``triggerers`` triggerers
    (``celery_topology``) and a private Redis; it needs PostgreSQL. ``settings``: environment
    variables over the harness's (the tests' own; benchmarks pass none).
    """
    home = make_home(dags_folder)
    port = free_port()
    env = {**make_env(home, port, database_url, home / "dags"), **(settings or {})}
    with contextlib.ExitStack() as stack:
        topology = local_topology()
        if celery:
            if not database_url:
                raise ValueError("CeleryExecutor needs PostgreSQL: give database_url")
            env.update(celery_env(database_url, stack.enter_context(running_redis())))
            topology = celery_topology(triggerers)
        airflow = Airflow(home=home, port=port, env=env, topology=topology)
        try:
            if database_url:
                airflow.airflow("db", "reset", "--yes", "--skip-init")
            airflow.airflow("db", "migrate")
            for component in topology:
                airflow.start(component)
            airflow.wait_until_up()
            yield airflow
        finally:
            airflow.stop()
            if os.environ.get("KEEP_AIRFLOW_HOME"):
                print(f"kept {home}")
            else:
                shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    url = sys.argv[sys.argv.index("--postgres") + 1] if "--postgres" in sys.argv else None
    with running_airflow(url, celery="--celery" in sys.argv) as af:
        print(f"Airflow at {af.url} home {af.home}; admin password {USERS['admin'][1]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
