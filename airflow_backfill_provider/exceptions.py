"""Errors a user can act on: each names what was wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_FIELD_ERRORS = 50
"""field errors one answer names; the rest are counted"""
MAX_ERROR_TEXT = 1000
"""characters of one error message"""


@dataclass(frozen=True)
class FieldError:
    """One bad field of a plan: its dotted path (``ranges.0.end``) and what to do about it."""

    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return {"loc": self.loc, "msg": self.msg}


class BackfillError(Exception):
    """Base of the provider's errors; ``code`` and ``status_code`` shape the REST error body."""

    code = "backfill_error"
    status_code = 400

    def __init__(self, message: str, fields: Iterable[FieldError] = ()) -> None:
        self.fields = bounded(fields)
        self.message = message[:MAX_ERROR_TEXT]
        super().__init__(self._render())

    def _render(self) -> str:
        if not self.fields:
            return self.message
        lines = [self.message]
        lines += [f"  {f.loc}: {f.msg}" if f.loc else f"  {f.msg}" for f in self.fields]
        return "\n".join(lines)


class PlanValidationError(BackfillError):
    """The plan document itself is invalid (types, enum words, ranges, lot syntax, ...)."""

    code = "invalid_plan"
    status_code = 422

    def __init__(self, fields: Iterable[FieldError], message: str = "invalid backfill plan") -> None:
        super().__init__(message, fields)


class UnknownObjectError(BackfillError):
    """The plan names a DAG or task that does not exist, or a plan id that is unknown."""

    code = "not_found"
    status_code = 404


class ForbiddenError(BackfillError):
    """The caller may not do this (Airflow's auth manager says so); the message names only what the
    caller sent."""

    code = "forbidden"
    status_code = 403


class QuotaError(BackfillError):
    """A limit the deployment sets on active plans or lots is reached; it frees up as plans end."""

    code = "quota_exceeded"
    status_code = 429


class ConflictError(BackfillError):
    """A name taken by another plan's content, or a state change the plan's state does not allow."""

    code = "conflict"
    status_code = 409


class UnsupportedMediaType(BackfillError):
    """The body is not in the content type the call reads (a plan is JSON)."""

    code = "unsupported_media_type"
    status_code = 415


class MethodNotAllowed(BackfillError):
    """The call exists, but not with this HTTP method (a GET never creates or changes anything)."""

    code = "method_not_allowed"
    status_code = 405


def bounded(fields: Iterable[FieldError]) -> list[FieldError]:
    """At most ``MAX_FIELD_ERRORS`` errors, each at most ``MAX_ERROR_TEXT`` characters, and a last one
    that counts the rest: an answer's size never grows with how wrong the input is."""
    found: list[FieldError] = []
    more = 0
    for error in fields:
        if len(found) < MAX_FIELD_ERRORS:
            found.append(FieldError(error.loc[:MAX_ERROR_TEXT], error.msg[:MAX_ERROR_TEXT]))
        else:
            more += 1
    if more:
        found.append(FieldError("", f"and {more} more errors: fix these first"))
    return found
