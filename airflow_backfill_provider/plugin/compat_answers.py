"""Answers of the compat endpoints in each cloud scheduler's own shape, errors included.

Alibaba Cloud (DMS, DataWorks): ``RequestId`` and ``Success``, errors with ``Code``/``Message`` (what
its SDKs read) and ``ErrorCode``/``ErrorMessage`` (what the seed documents show), under the HTTP
status. Tencent Cloud (WeData): always HTTP 200 with ``Response.Error`` (its SDKs read the body, not
the status). Aloudata: ``success``, ``code``, ``errorMsg``, ``detailErrorMsg``, ``traceId``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from airflow_backfill_provider.exceptions import MAX_ERROR_TEXT, FieldError, bounded
from airflow_backfill_provider.plan.translate import SYSTEMS
from airflow_backfill_provider.service.datamodels import PlanOut

COMPAT_PATH = re.compile(
    r"/compat/(?P<system>" + "|".join(sorted(map(re.escape, SYSTEMS), key=len, reverse=True)) + r")(?:/|$)"
)
ALIBABA = ("dms", "dataworks", "dataworks-legacy")
MAX_DETAIL = 20_000
"""characters of the field errors in one answer (Alibaba's shape repeats them twice): under 64 kB"""
TENCENT_CODES = {
    401: "AuthFailure",
    403: "AuthFailure.UnauthorizedOperation",
    404: "ResourceNotFound",
    409: "FailedOperation",
    413: "InvalidParameter",
    422: "InvalidParameter",
}
ALIBABA_CODES = {
    401: "InvalidAccessKeyId",
    403: "Forbidden",
    404: "InvalidParameter.NotFound",
    409: "OperationConflict",
    413: "InvalidParameter",
    422: "InvalidParameter",
}


def system_of(request: Request) -> str | None:
    match = COMPAT_PATH.search(request.url.path)
    return match["system"] if match else None


def _request_id(request: Request) -> str:
    return str(getattr(request.state, "request_id", "") or "")


def ok(request: Request, system: str, data: dict[str, Any], status: int = 200) -> JSONResponse:
    """A success answer: ``data`` are the system's own result fields."""
    request_id = _request_id(request)
    if system == "dataworks":  # the new API answers RequestId and its result fields only
        body: dict[str, Any] = {"RequestId": request_id, **data}
    elif system in ALIBABA:
        body = {"RequestId": request_id, "Success": True, **data}
        if system == "dataworks-legacy":
            body["HttpStatusCode"] = status
    elif system == "wedata":
        body = {"Response": {**data, "RequestId": request_id}}
    else:
        body = {"success": True, "code": str(status), "errorMsg": None, "detailErrorMsg": None, **data}
        body["traceId"] = request_id
    return JSONResponse(body, status_code=status)


PLAN_HEADER = "X-Backfill-Plan"
"""every create answer names the plan it made here too, whatever the system's own body holds"""


def created(request: Request, system: str, plans: list[PlanOut]) -> JSONResponse:
    """The answer to a create, as each seed shows it: the (first) plan's id where the system puts the
    id of what it made (DMS: NodeId); every plan's name is in the header too."""
    plan = plans[0]
    results: dict[str, dict[str, Any]] = {
        "dms": {"NodeId": plan.id},  # seed 000 answers the backfill's node id
        "dataworks": {"OperationId": str(plan.id)},
        "dataworks-legacy": {"Data": plan.id},
        "wedata": {"Data": {"DataBackfillPlanId": str(plan.id)}},
        "aloudata": {"data": str(plan.id)},
    }
    warnings = [w for p in plans for w in p.warnings]
    if warnings:  # what runs differently from the request's letter (e.g. whole days of a daily DAG)
        results[system]["warnings" if system == "aloudata" else "Warnings"] = warnings
    response = ok(request, system, results[system])
    response.headers[PLAN_HEADER] = ", ".join(p.name for p in plans)
    return response


def error(
    request: Request, system: str, status: int, code: str, message: str, fields: Sequence[FieldError] = ()
) -> JSONResponse:
    """An error answer that names every bad field (in the system's own names) and the fix."""
    request_id = _request_id(request)
    detail = "; ".join(f"{f.loc}: {f.msg}" if f.loc else f.msg for f in bounded(fields))[:MAX_DETAIL]
    text = f"{message[:MAX_ERROR_TEXT]}: {detail}" if detail else message[:MAX_ERROR_TEXT]
    if system in ALIBABA:
        their = ALIBABA_CODES.get(status, "InternalError" if status >= 500 else code)
        body: dict[str, Any] = {
            "RequestId": request_id,
            "Success": False,
            "Code": their,
            "Message": text,
            "ErrorCode": their,
            "ErrorMessage": text,
            "HttpStatusCode": status,
        }
        return JSONResponse(body, status_code=status)
    if system == "wedata":
        their = TENCENT_CODES.get(status, "InternalError" if status >= 500 else "FailedOperation")
        body = {"Response": {"Error": {"Code": their, "Message": text}, "RequestId": request_id}}
        return JSONResponse(body, status_code=200)
    body = {
        "data": None,
        "success": False,
        "code": str(status),
        "errorMsg": message,
        "detailErrorMsg": detail or None,
        "traceId": request_id,
    }
    return JSONResponse(body, status_code=status)
