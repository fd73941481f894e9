"""Reading a cloud scheduler's request field by field: typed, every field accounted for.

A ``Request`` hands out the fields a translator asks for, in the system's own names, each parsed the
way that system writes it (``"true"``/``0`` booleans, comma-separated or JSON-string id lists, RPC
``Name.1`` flat keys, ``key=value`` parameter strings). Every problem is a ``FieldError`` named by the
system's field; a field no translator took is refused by name: nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote_plus

import yaml

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError

MAX_FIELDS = 200
"""most fields of one request, after RPC flat keys are folded"""
_FLAT_KEY = re.compile(r"^(?P<name>[A-Za-z][A-Za-z0-9]*)\.(?P<index>[0-9]{1,4})(?:\.(?P<rest>.+))?$")
_UTC_OFFSET = re.compile(r"^(?:UTC|GMT)(?P<sign>[+-])(?P<hours>[0-9]{1,2})(?::?(?P<minutes>00|30|45))?$")
PART_HOUR_ZONES = {
    "+03:30": "Asia/Tehran",
    "+04:30": "Asia/Kabul",
    "+05:30": "Asia/Kolkata",
    "+05:45": "Asia/Kathmandu",
    "+06:30": "Asia/Yangon",
    "+08:45": "Australia/Eucla",
    "+09:30": "Australia/Darwin",
    "-09:30": "Pacific/Marquesas",
}
"""offsets of whole-year zones that are not whole hours (IANA has no Etc/GMT zone for them): each
as a zone that keeps it all year, without daylight saving"""
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z0-9_.-]+)\s*:")
_TRUE = ("true", "1")
_FALSE = ("false", "0")


MAX_FLAT_DEPTH = 4
"""RPC flat keys nest at most this deep (``A.1.B.2.C``): the seeds' deepest is two"""


def unflatten(params: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """RPC query/form style (``BizDates.1.StartBizDate=…``, ``StartNodeIds.2=…``) into lists and objects."""
    if depth > MAX_FLAT_DEPTH:
        name = next(iter(params), "")
        raise PlanValidationError(
            [
                FieldError(
                    str(name)[:100], f"RPC keys nest at most {MAX_FLAT_DEPTH} levels deep (Name.1.Field)"
                )
            ]
        )
    out: dict[str, Any] = {}
    flat: dict[str, dict[int, Any]] = {}
    for key, value in params.items():
        match = _FLAT_KEY.match(key)
        if match is None:
            out[key] = value
            continue
        items = flat.setdefault(match["name"], {})
        index = int(match["index"])
        if match["rest"] is None:
            items[index] = value
        else:
            items.setdefault(index, {})
            if isinstance(items[index], dict):
                items[index][match["rest"]] = value
    for name, items in flat.items():
        folded = [items[i] for i in sorted(items)]
        out[name] = [unflatten(item, depth + 1) if isinstance(item, dict) else item for item in folded]
    return out


class _RequestLoader(yaml.SafeLoader):
    """A request file's values as the systems write them: ``yes``/``no`` (WeData's
    RedefineSelfWorkflowDependency), ``10:00`` and ``2024-01-01`` stay text; JSON's true, false and
    numbers keep their types."""


_RequestLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:timestamp",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
        )
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|false)$", "tf"),
    ("tag:yaml.org,2002:int", r"^-?(?:0|[1-9][0-9]*)$", "-0123456789"),
    ("tag:yaml.org,2002:float", r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$", "-0123456789"),
):
    _RequestLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def read_request_text(text: str) -> dict[str, Any]:
    """A request as a file holds it: a JSON or YAML object of fields, or an RPC URL / query string
    (``https://…/?Action=BackFill&DagId=15001``, one parameter per line allowed), as the seeds show."""
    import yaml

    stripped = text.strip()
    try:
        data = yaml.load(stripped, Loader=_RequestLoader)
    except yaml.YAMLError as exc:
        if stripped.startswith("{"):
            raise PlanValidationError(
                [FieldError("", f"not JSON or YAML: {exc}")], "unreadable request"
            ) from None
        data = None
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}
    query = "".join(line.strip() for line in stripped.splitlines())
    query = query.split("?", 1)[1] if "?" in query else query
    fields: dict[str, Any] = {}
    for part in query.split("&"):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            fields[unquote_plus(key.strip())] = unquote_plus(value)
    if not fields:
        raise PlanValidationError(
            [FieldError("", "neither a JSON/YAML object nor a query string (Name=value&Name=value)")],
            "unreadable request",
        )
    return fields


def key_values(text: str) -> dict[str, str] | None:
    """``"k1=v1 k2=v2"`` (DataWorks' parameter strings) as a dict; None when a word has no ``=``."""
    pairs: dict[str, str] = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep or not key:
            return None
        pairs[key] = value
    return pairs


def iana_from_offset(text: str) -> str:
    """``UTC+8`` (WeData's default) as the IANA zone ``Etc/GMT-8``, ``UTC+05:30`` as a zone that keeps
    that offset all year (``Asia/Kolkata``); anything else is returned as given (and checked as an
    IANA name by the plan)."""
    match = _UTC_OFFSET.match(text.strip().upper())
    if match is None:
        return text
    hours, minutes = int(match["hours"]), match["minutes"] or "00"
    if minutes != "00":
        return PART_HOUR_ZONES.get(f"{match['sign']}{hours:02d}:{minutes}", text)
    if hours == 0:
        return "UTC"
    return f"Etc/GMT{'-' if match['sign'] == '+' else '+'}{hours}"


class Request:
    """One request of a cloud scheduler: fields taken by name, errors collected, leftovers refused."""

    def __init__(self, data: Any, system: str, ignored: Iterable[str] = ()) -> None:
        self.system = system
        self.prefix = ""
        self.errors: list[FieldError] = []
        self.taken: set[str] = set(ignored)
        if not isinstance(data, Mapping):
            self.data: dict[str, Any] = {}
            self.errors.append(FieldError("", f"a {system} request is an object of fields"))
        elif len(data) > MAX_FIELDS:
            self.data = {}
            self.errors.append(
                FieldError("", f"more than {MAX_FIELDS} fields: this is not a {system} request")
            )
        else:
            self.data = unflatten({str(k): v for k, v in data.items()})

    # -- taking fields ---------------------------------------------------------------------------

    def raw(self, name: str, *, required: bool = False) -> Any:
        self.taken.add(name)
        value = self.data.get(name)
        if value in (None, "", []):
            if required:
                self.error(name, "is required")
            return None
        return value

    def error(self, name: str, msg: str) -> None:
        self.errors.append(FieldError(f"{self.prefix}{name}" if name else self.prefix.rstrip("."), msg))

    def part(self, where: str, data: Any, known: Sequence[str]) -> Request:
        """A nested object of the request (``Periods``, a ``BizDates`` entry, ``RunPolicy``...), read by
        name like the request itself: its errors name ``where.<field>`` here, and a field it does not
        have (``known``) is refused by name, never dropped."""
        child = Request({}, self.system)
        child.prefix, child.errors = f"{self.prefix}{where}.", self.errors
        if data in (None, ""):
            return child
        if isinstance(data, str):
            data = self._parse_mapping(data)
        if not isinstance(data, Mapping):
            self.error(where, f"must be an object with {', '.join(known)}")
            return child
        child.data = {str(k): v for k, v in data.items()}
        for key in child.data:
            if key not in known:
                child.error(key, f"unknown field: {where.split('.')[-1]} has {', '.join(known)}")
        return child

    def leftovers(self, known: Iterable[str]) -> None:
        """Every field no translator took is an error that names it."""
        known = sorted(set(known) | self.taken)
        for name in self.data:
            if name not in self.taken:
                self.error(str(name), f"unknown {self.system} field: the fields read are {', '.join(known)}")

    # -- typed readers ---------------------------------------------------------------------------

    def text(self, name: str, *, required: bool = False, max_length: int = 2000) -> str | None:
        value = self.raw(name, required=required)
        if value is None:
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.error(name, f"must be a string, got {type(value).__name__}")
            return None
        text = str(value).strip()
        if len(text) > max_length:
            self.error(name, f"longer than {max_length} characters")
            return None
        return text

    def choice(self, name: str, words: Mapping[str, Any], *, default: Any = None) -> Any:
        """One of ``words`` (any case), translated; an unknown word names the ones accepted."""
        value = self.text(name)
        if value is None:
            return default
        for word, meaning in words.items():
            if value.lower() == word.lower():
                return meaning
        self.error(name, f"{value!r} is not one of {', '.join(words)}")
        return default

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        """``true``/``false`` (any case, as the RPC query strings write them) or ``1``/``0``; any other
        word (``"yes"``) is an error naming the field, never a silent false."""
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE and not isinstance(value, float):
            return True
        if word in _FALSE and not isinstance(value, float):
            return False
        self.error(name, f"{value!r} is not a boolean: write true or false")
        return default

    def integer(self, name: str, lo: int, hi: int, *, required: bool = False) -> int | None:
        value = self.raw(name, required=required)
        if value is None:
            return None
        try:
            number = int(str(value).strip()) if not isinstance(value, bool) else None
        except ValueError:
            number = None
        if number is None or not lo <= number <= hi:
            self.error(name, f"{value!r} is not a whole number from {lo} to {hi}")
            return None
        return number

    def date(
        self, name: str, *, required: bool = False, data: Mapping[str, Any] | None = None
    ) -> dt.date | None:
        """``yyyy-MM-dd`` or ``yyyy-MM-dd 00:00:00`` (a data date: the time must be midnight)."""
        value = (data if data is not None else self.data).get(name)
        if data is None:
            self.taken.add(name)
        if value in (None, ""):
            if required:
                self.error(name, "is required")
            return None
        text = str(value).strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            stamp = dt.datetime.fromisoformat(text)
        except ValueError:
            self.error(name, f"{value!r} is not a date: write yyyy-MM-dd (or yyyy-MM-dd 00:00:00)")
            return None
        if stamp.time() != dt.time():
            self.error(name, f"{value!r}: a data date's time must be 00:00:00")
            return None
        return stamp.date()

    def ids(self, name: str, *, required: bool = False) -> list[str]:
        """A list of ids: a JSON list, a JSON-string list, comma-separated, or RPC ``Name.N`` keys."""
        value = self.raw(name, required=required)
        if value is None:
            return []
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    self.error(name, f"{value!r} is not a JSON list of ids")
                    return []
            else:
                value = [part for part in text.split(",") if part.strip()]
        elif isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            self.error(name, "must be a list of ids (numbers or strings)")
            return []
        if len(value) > 1000:
            self.error(name, "more than 1000 ids")
            return []
        return [str(v).strip() for v in value]

    def obj(self, name: str, *, required: bool = False) -> dict[str, Any] | None:
        """An object, given as one or as a JSON (or YAML flow, ``{74324: "k=v"}``) string."""
        value = self.raw(name, required=required)
        if value is None:
            return None
        if isinstance(value, str):
            value = self._parse_mapping(value)
        if not isinstance(value, dict):
            self.error(name, "must be an object (or a JSON string of one)")
            return None
        return {str(k): v for k, v in value.items()}

    def objects(self, name: str, *, required: bool = False, max_items: int = 1000) -> list[dict[str, Any]]:
        value = self.raw(name, required=required)
        if value is None:
            return []
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.error(name, "is not a JSON list of objects")
                return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(name, "must be a list of objects")
            return []
        if len(value) > max_items:
            self.error(name, f"at most {max_items} entries")
            return []
        return value

    def params(self, name: str, value: Any) -> dict[str, Any] | None:
        """Parameters as ``"k1=v1 k2=v2"`` or as an object (or a JSON string of one)."""
        if isinstance(value, str):
            pairs = key_values(value)
            if pairs is not None:
                return pairs
            value = self._parse_mapping(value)
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        self.error(name, 'parameters are "key1=value1 key2=value2" or a JSON object')
        return None

    @staticmethod
    def _parse_mapping(text: str) -> Any:
        """JSON; or JSON with bare keys, as DataWorks' own examples write ``{74324:"key1=val1"}``."""
        for candidate in (text, _BARE_KEY.sub(r'\1"\2":', text)):
            try:
                return json.loads(candidate)
            except (json.JSONDecodeError, RecursionError):
                continue
        return None
