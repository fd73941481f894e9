"""A database too busy to answer is a 503 with Retry-After (plugin/errors.py), never a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from airflow_backfill_provider.plugin import errors


def app_raising(exc: Exception) -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise exc

    return TestClient(app, raise_server_exceptions=False)


def test_an_empty_connection_pool_or_sqlites_write_lock_answer_503_with_retry_after():
    for exc in (
        PoolTimeout("QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"),
        OperationalError("UPDATE backfill_plan", {}, Exception("database is locked")),
    ):
        response = app_raising(exc).get("/boom")
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
        error = response.json()["error"]
        assert error["code"] == "unavailable" and "try again" in error["message"]


def test_any_other_failure_stays_a_500_that_names_no_internals():
    response = app_raising(ValueError("secret internal detail")).get("/boom")
    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    assert response.json()["error"]["code"] == "internal_error"
