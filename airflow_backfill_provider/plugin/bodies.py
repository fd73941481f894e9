"""Request bodies, read with a limit: streamed and cut at ``MAX_BODY_BYTES``, never buffered whole first.

A chunked body has no Content-Length for the middleware to check, so the limit holds while the body
streams in. Callers read the body before they wait for anything scarce (the creation slot): a slow
uploader holds only its own request.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from airflow_backfill_provider.exceptions import BackfillError, FieldError, PlanValidationError
from airflow_backfill_provider.plugin.errors import MAX_BODY_BYTES


class BodyTooLarge(BackfillError):
    code = "too_large"
    status_code = 413


async def read_body(request: Request) -> bytes:
    """The body, or 413 as soon as more than ``MAX_BODY_BYTES`` have arrived."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


MAX_FORM_FIELDS = 1000
MAX_DEPTH = 32
"""JSON nests at most this deep: a plan's deepest field is five levels down"""


def check_json(value: Any) -> None:
    """A decoded body holds nothing the service cannot store or walk: no structure deeper than
    ``MAX_DEPTH`` (later code recurses), no NUL character (PostgreSQL refuses it in text)."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PlanValidationError(
                [FieldError(where, f"nests deeper than {MAX_DEPTH} levels")], "bad request"
            )
        if isinstance(item, str):
            if "\x00" in item:
                raise PlanValidationError([FieldError(where, "holds a NUL character")], "bad request")
        elif isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in str(key):
                    raise PlanValidationError(
                        [FieldError(where, "a key holds a NUL character")], "bad request"
                    )
                stack.append((child, f"{where}.{key}" if where else str(key), depth + 1))
        elif isinstance(item, list):
            stack.extend(
                (child, f"{where}.{i}" if where else str(i), depth + 1) for i, child in enumerate(item)
            )


def json_body(raw: bytes) -> Any:
    """A request body as JSON: not JSON, too deep or too big is one 4xx with the fix."""
    if len(raw) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        found = json.loads(raw or b"null")
    except json.JSONDecodeError as exc:
        raise PlanValidationError(
            [FieldError("", f"the body is not JSON: {exc.msg} at char {exc.pos}")],
            "the plan is not valid JSON",
        ) from None
    except (RecursionError, UnicodeDecodeError, ValueError) as exc:
        raise PlanValidationError(
            [FieldError("", f"the body is not JSON a plan can be read from: {type(exc).__name__}")],
            "the plan is not valid JSON",
        ) from None
    check_json(found)
    return found
