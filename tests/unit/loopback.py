"""A small JSON service on loopback for unit tests of HTTP clients (the hook, the driver's trigger)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class JsonHandler(BaseHTTPRequestHandler):
    """Answers with ``answer(status, body, headers)``; quiet."""

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[JsonHandler]) -> Iterator[str]:
    """``handler`` served on a free loopback port; yields ``http://127.0.0.1:<port>``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


class FakeBackfillApi(JsonHandler):
    """The parts of an api-server the DAG author's classes call: ``POST /auth/token`` (for
    ``admin``/``pw``), ``POST /backfill/api/v1/plans`` and ``GET /backfill/api/v1/plans/{name}``.
    ``plans`` holds the plans by name; ``states`` pops the state each further GET answers;
    ``requests`` records (method, path, Authorization header)."""

    plans: dict[str, dict[str, Any]] = {}
    states: list[str] = []
    requests: list[tuple[str, str, str | None]] = []
    expired: set[str] = set()  # tokens the server answers 401 for
    issued = 0
    url = ""

    @classmethod
    def reset(cls) -> None:
        cls.plans, cls.states, cls.requests, cls.expired, cls.issued = {}, [], [], set(), 0

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")

    def _authorized(self) -> bool:
        header = self.headers.get("Authorization")
        self.requests.append((self.command, self.path, header))
        if header is not None and header.removeprefix("Bearer ") in self.expired:
            self.answer(401, {"detail": "token expired"})
            return False
        return True

    def do_POST(self) -> None:
        if self.path == "/auth/token":
            self.requests.append((self.command, self.path, None))
            body = self._body()
            if body != {"username": "admin", "password": "pw"}:
                self.answer(401, {"detail": "Invalid credentials"})
                return
            type(self).issued += 1
            self.answer(201, {"access_token": f"token-{self.issued}"})
            return
        if not self._authorized():
            return
        body = self._body()
        if not body.get("dag_id"):
            self.answer(
                400,
                {
                    "error": {
                        "code": "invalid",
                        "message": "1 bad field",
                        "fields": [{"loc": "dag_id", "msg": "required"}],
                    }
                },
            )
            return
        name = body.get("name") or "generated"
        created = name not in self.plans
        self.plans.setdefault(name, plan_row(name, body["dag_id"]))
        self.answer(201 if created else 200, {"plan": self.plans[name], "created": created})

    def do_GET(self) -> None:
        if not self._authorized():
            return
        path = self.path.split("?", 1)[0]
        name = path.removeprefix("/backfill/api/v1/plans").strip("/")
        if not name:
            self.answer(200, {"plans": list(self.plans.values()), "total_entries": len(self.plans)})
            return
        if name not in self.plans:
            self.answer(404, {"error": {"code": "not_found", "message": f"no plan '{name}'"}})
            return
        if self.states:
            self.plans[name]["state"] = self.states.pop(0)
        self.answer(200, self.plans[name])


def plan_row(name: str, dag_id: str) -> dict[str, Any]:
    return {"name": name, "dag_id": dag_id, "state": "running", "total_lots": 2, "counts": {"running": 2}}


@contextmanager
def backfill_api(
    monkeypatch: Any, conn_id: str = "backfill_fake", **extra: str
) -> Iterator[type[FakeBackfillApi]]:
    """``FakeBackfillApi`` on loopback, with connection ``conn_id`` (login ``admin``/``pw``) to it."""
    FakeBackfillApi.reset()
    with serving(FakeBackfillApi) as url:
        FakeBackfillApi.url = url
        conn = {"conn_type": "backfill", "host": url, "login": "admin", "password": "pw", **extra}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        yield FakeBackfillApi
