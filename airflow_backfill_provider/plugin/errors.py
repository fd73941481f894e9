"""One error shape for every 4xx and 5xx answer, and the request id every answer carries.

``{"error": {"code", "message", "fields": [{"loc", "msg"}], "request_id"}}``; the request id is the
caller's ``X-Request-ID`` when it is a plain token, else a new one, and is repeated in the header and
in the server's log lines.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from airflow_backfill_provider.exceptions import MAX_ERROR_TEXT, BackfillError, FieldError, bounded

log = logging.getLogger(__name__)
REQUEST_ID = "X-Request-ID"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
MAX_BODY_BYTES = 1024 * 1024
"""largest request body accepted (a 100,000-date plan is far smaller)"""
CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "quota_exceeded",
    503: "unavailable",
}
RETRY_AFTER_SECONDS = 5


def error_response(
    request: Request, status: int, code: str, message: str, fields: Sequence[FieldError] = ()
) -> JSONResponse:
    from airflow_backfill_provider.plugin import compat_answers

    system = compat_answers.system_of(request)
    if system is not None:  # a cloud scheduler's script reads its own error shape
        response = compat_answers.error(request, system, status, code, message, fields)
        response.headers[REQUEST_ID] = str(getattr(request.state, "request_id", "") or "")
        return response
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message[:MAX_ERROR_TEXT],
            "fields": [f.as_dict() for f in bounded(fields)],
            "request_id": request_id,
        }
    }
    return JSONResponse(body, status_code=status, headers={REQUEST_ID: request_id})


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DRIVER_PATH = "/api/v1/driver/pass"
"""the driver's call, authorised by its own token (``routes/driver.py``), not by an Airflow user"""
COOKIE = "_token"
"""Airflow's session cookie (``airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN``)"""


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header. Airflow reads the header for Bearer only and
    otherwise falls back to the session cookie, so no other scheme counts as the caller's own header:
    a browser adds Basic or Negotiate by itself, to any request, a cross-site one included."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def write_refusal(request: Request) -> tuple[int, str, str] | None:
    """Why a request that changes something is refused before it is read, or None: (status, code,
    message). Who the caller is comes first (401, or Airflow's 403 for a token it cannot verify),
    then whether the request can be a cross-site one.

    A browser sends Airflow's ``_token`` cookie with any request to this host, even one another site
    makes it send (a form, an image, a link an admin clicks). Such a request carries no Bearer header
    and only form or text content types. So a write is taken only with a Bearer header (scripts, the
    hook, the compat endpoints' callers) or a JSON content type, which a browser sends cross-site only
    after a CORS preflight Airflow does not allow.
    """
    if request.method in SAFE_METHODS or request.url.path.endswith(DRIVER_PATH):
        return None
    bearer = bearer_token(request)
    token = bearer or request.cookies.get(COOKIE)
    if not token:
        return (
            401,
            "unauthenticated",
            "Not authenticated: send Authorization: Bearer <a token from POST /auth/token>",
        )
    from airflow.api_fastapi.core_api.security import resolve_user_from_token

    try:
        await resolve_user_from_token(token)
    except StarletteHTTPException as exc:
        return exc.status_code, CODES.get(exc.status_code, "error"), str(exc.detail)
    if bearer is None and media_type(request) != "application/json":
        return (
            415,
            "unsupported_media_type",
            "a request that changes something needs an Authorization: Bearer header, or Content-Type: "
            "application/json (as the Backfill plans page sends): the session cookie alone is not enough",
        )
    return None


def busy(exc: BaseException) -> bool:
    """The database could not serve the request in time: the connection pool stayed empty (every
    connection busy under load), or SQLite's write lock stayed taken. The request can be repeated."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from airflow_backfill_provider.service.locking import is_locked

    return isinstance(exc, PoolTimeout) or is_locked(exc)


def busy_response(request: Request, exc: BaseException) -> JSONResponse | None:
    """503 with ``Retry-After`` for a database too busy to answer now, else None."""
    if not busy(exc):
        return None
    response = error_response(
        request,
        503,
        "unavailable",
        "the database is too busy to answer now (every connection in use, or its write lock taken): "
        f"try again in {RETRY_AFTER_SECONDS} seconds",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def install(app: FastAPI) -> None:
    """The middleware and exception handlers that give every answer the one shape."""

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Any]) -> Any:
        given = request.headers.get(REQUEST_ID, "")
        request.state.request_id = given if _PLAIN_ID.match(given) else str(uuid.uuid4())
        length = request.headers.get("content-length", "")
        refused = await write_refusal(request)
        if refused:
            response = error_response(request, *refused)
        elif "\x00" in request.url.path or "%00" in str(request.url.query):
            response = error_response(request, 400, "bad_request", "the URL holds a NUL character")
        elif length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            response = error_response(
                request, 413, "too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes"
            )
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # an exception escaping the app would stop Airflow's api-server
                log.exception("unexpected error [request_id=%s]", request.state.request_id)
                # the exception's text stays in the log: it may name internals
                response = busy_response(request, exc) or error_response(
                    request,
                    500,
                    "internal_error",
                    f"the server failed on this request ({type(exc).__name__}); its log has the details "
                    f"under request id {request.state.request_id}",
                )
        response.headers[REQUEST_ID] = request.state.request_id
        log.info(
            "%s %s -> %s [request_id=%s]",
            request.method,
            request.url.path,
            response.status_code,
            request.state.request_id,
        )
        return response

    @app.exception_handler(BackfillError)
    async def backfill_error(request: Request, exc: BackfillError) -> JSONResponse:
        return error_response(request, exc.status_code, exc.code, exc.message, exc.fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(request, exc.status_code, CODES.get(exc.status_code, "error"), str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            FieldError(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), e["msg"])
            for e in exc.errors()
        ]
        return error_response(request, 422, "invalid_request", "invalid request", fields)
