"""Errors a user can act on: each names what was wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


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
        self.fields = list(fields)
        self.message = message
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
