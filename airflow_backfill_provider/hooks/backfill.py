"""The hook for the REST API of backfill plans (``/backfill/api/v1``), on ``requests``."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import requests
from airflow.configuration import conf
from airflow.providers.common.compat.sdk import AirflowNotFoundException
from airflow.sdk import BaseHook

from airflow_backfill_provider.exceptions import BackfillError, FieldError
from airflow_backfill_provider.states import FINAL_PLANS

API = "/backfill/api/v1"
FINAL_STATES = frozenset(s.value for s in FINAL_PLANS)


class BackfillApiError(BackfillError):
    """The API refused the call (4xx): its message and fields, as the API said them."""

    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        error = body.get("error", {}) if isinstance(body, dict) else {}
        self.code = error.get("code", "error")
        self.request_id = error.get("request_id")
        fields = [FieldError(f.get("loc", ""), f.get("msg", "")) for f in error.get("fields", [])]
        super().__init__(f"{status_code}: {error.get('message') or body}", fields)


class BackfillHook(BaseHook):
    """Talks to ``/backfill/api/v1`` of an Airflow api-server as an Airflow user.

    Connection (type ``backfill``, default id ``backfill_default``): host is the api-server's base URL
    with scheme (``http://localhost:8080``); login and password are an Airflow user's whose rights
    cover the plan's DAGs. The token comes from ``POST /auth/token`` and is renewed before it expires
    (and once more if the server says it has). Without the connection: ``[api] base_url`` and no
    credentials, which is enough only where the auth manager lets everyone in; the task log says so.
    Any other error reading the connection (a secrets backend down, say) is raised.
    Connection errors and 5xx answers are retried (after the server's ``Retry-After`` when it sends
    one: a 503 while its database is busy); 4xx answers raise ``BackfillApiError``.


    :param backfill_conn_id: the connection (type ``backfill``) to use.
    :param retries: how often a connection error or a 5xx answer is tried again.
    :param timeout: seconds one HTTP call may take.
    """

    conn_name_attr = "backfill_conn_id"
    default_conn_name = "backfill_default"
    conn_type = "backfill"
    hook_name = "Backfill plans"

    def __init__(
        self, backfill_conn_id: str = default_conn_name, *, retries: int = 3, timeout: float = 60
    ) -> None:
        super().__init__()
        self.backfill_conn_id = backfill_conn_id
        self.retries = retries
        self.timeout = timeout
        self._session: requests.Session | None = None
        self._base_url = ""
        self._credentials: tuple[str, str] | None = None
        self._token: str | None = None
        self._token_expires = 0.0

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port", "extra"],
            "relabeling": {"host": "API server URL", "login": "Airflow user"},
            "placeholders": {
                "host": "http://localhost:8080",
                "login": "a user whose rights cover the plans' DAGs",
                "password": "that user's password",
            },
        }

    def test_connection(self) -> tuple[bool, str]:
        """The connection form's Test button: log in and list one plan."""
        try:
            self._call("GET", "/plans", params={"limit": 1})
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return True, f"the Backfill plans API at {self._base_url} answered"

    def get_conn(self) -> requests.Session:
        if self._session is not None:
            return self._session
        try:
            conn = self.get_connection(self.backfill_conn_id)
            self._base_url = (conn.host or "").rstrip("/")
            if conn.port and ":" not in self._base_url.split("//", 1)[-1]:
                self._base_url = f"{self._base_url}:{conn.port}"
            if conn.login:
                self._credentials = (conn.login, conn.password or "")
        except AirflowNotFoundException:
            self._base_url = (conf.get("api", "base_url", fallback="") or "http://localhost:8080").rstrip("/")
            self.log.warning(
                "no connection %r: calling %s without credentials ([api] base_url)",
                self.backfill_conn_id,
                self._base_url,
            )
        if not self._base_url.startswith(("http://", "https://")):
            self._base_url = f"http://{self._base_url}"
        self._session = requests.Session()
        return self._session

    # -- auth -----------------------------------------------------------------------------------

    def _bearer(self, *, renew: bool = False) -> dict[str, str]:
        if self._credentials is None:
            return {}
        if renew or self._token is None or time.time() > self._token_expires - 60:
            response = self._send(
                "POST",
                "/auth/token",
                json={"username": self._credentials[0], "password": self._credentials[1]},
                auth=False,
            )
            self._token = response.json()["access_token"]
            self._token_expires = _expiry(self._token)
        return {"Authorization": f"Bearer {self._token}"}

    # -- HTTP -----------------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        session = self.get_conn()
        pause = 1.0
        renewed = False
        for attempt in range(self.retries + 1):
            headers = {**kwargs.pop("headers", {}), **(self._bearer() if auth else {})}
            try:
                response = session.request(
                    method, f"{self._base_url}{path}", headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.ConnectionError:
                if attempt == self.retries:
                    raise
                self.log.warning("cannot reach %s, retrying in %.0fs", self._base_url, pause)
            else:
                if response.status_code == 401 and auth and self._credentials and not renewed:
                    self._bearer(renew=True)  # the token expired early: renew it once
                    renewed = True
                    continue
                if response.status_code < 500 or attempt == self.retries:
                    if response.status_code >= 400:
                        raise BackfillApiError(response.status_code, _json(response))
                    return response
                wait = _retry_after(response, pause)
                self.log.warning(
                    "%s %s answered %s, retrying in %.0fs", method, path, response.status_code, wait
                )
                time.sleep(wait)
                pause = min(pause * 2, 30)
                continue
            time.sleep(pause)
            pause = min(pause * 2, 30)
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return _json(self._send(method, f"{API}{path}", **kwargs))

    # -- the API --------------------------------------------------------------------------------

    def create_plan(self, plan: Any, *, preview: bool = False) -> dict[str, Any]:
        """Create (or, for the same name and content, get) a plan; ``preview`` creates nothing."""
        body = plan.to_dict() if hasattr(plan, "to_dict") else plan
        return dict(self._call("POST", "/plans", params={"preview": "true"} if preview else None, json=body))

    def get_plan(self, plan: str | int) -> dict[str, Any]:
        return dict(self._call("GET", f"/plans/{plan}"))

    def list_plans(self, **filters: Any) -> dict[str, Any]:
        return dict(self._call("GET", "/plans", params=filters))

    def get_lots(self, plan: str | int, **filters: Any) -> dict[str, Any]:
        return dict(self._call("GET", f"/plans/{plan}/lots", params=filters))

    def get_lot(self, plan: str | int, index: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/plans/{plan}/lots/{index}"))

    def pause(self, plan: str | int) -> dict[str, Any]:
        return dict(self._call("POST", f"/plans/{plan}/pause"))

    def resume(self, plan: str | int) -> dict[str, Any]:
        return dict(self._call("POST", f"/plans/{plan}/resume"))

    def cancel(self, plan: str | int) -> dict[str, Any]:
        return dict(self._call("POST", f"/plans/{plan}/cancel"))

    def retry(self, plan: str | int, indexes: list[int] | None = None) -> dict[str, Any]:
        return dict(
            self._call("POST", f"/plans/{plan}/retry", params={"index": indexes} if indexes else None)
        )


def _retry_after(response: requests.Response, pause: float) -> float:
    """Seconds before asking again: the server's ``Retry-After`` (a 503 when its database is busy),
    else ``pause``; at most 30."""
    try:
        return min(max(float(response.headers.get("Retry-After", pause)), 0.0), 30.0)
    except ValueError:  # an HTTP date: not ours
        return pause


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"error": {"message": response.text[:500]}}


def _expiry(token: str) -> float:
    """The ``exp`` of a JWT (not verified: the server does that); 10 minutes when unreadable."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except Exception:
        return time.time() + 600
