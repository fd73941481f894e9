"""``airflow backfill-plans`` verbs: each calls the service in this process, as the REST API does."""

from __future__ import annotations

import contextlib
import functools
import getpass
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from airflow.cli.simple_table import AirflowConsole
from rich.markup import escape
from sqlalchemy.orm import Session

from airflow_backfill_provider.exceptions import BackfillError, FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import BackfillPlan
from airflow_backfill_provider.service import create as creating
from airflow_backfill_provider.service import health, planning, queries, steering
from airflow_backfill_provider.service.datamodels import PlanOut
from airflow_backfill_provider.service.locking import committed
from airflow_backfill_provider.states import FINAL_LOTS, FINAL_PLANS, LotState, PlanState

T = TypeVar("T", bound=Enum)
PLAN_COLUMNS = ("id", "name", "title", "dag_id", "state", "total_lots", "created_at", "created_by")
LOT_COLUMNS = ("index", "dag_id", "label", "state", "run_id", "reason")


@contextmanager
def _session() -> Iterator[Session]:
    """A database session; while it is open, whatever Airflow logs to stdout goes to stderr instead,
    so that stdout carries only the command's output (parseable JSON or YAML)."""
    from airflow.utils.session import create_session

    with contextlib.redirect_stdout(sys.stderr), create_session() as session:
        yield session


def _reports_errors(func: Callable[[Any], None]) -> Callable[[Any], None]:
    """A user's mistake prints the service's message (as the API says it) and exits 1."""

    @functools.wraps(func)
    def wrapper(args: Any) -> None:
        try:
            func(args)
        except BackfillError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None

    return wrapper


def _print(rows: list[dict[str, Any]], output: str, columns: tuple[str, ...]) -> None:
    """JSON and YAML keep every field with its type; tables show ``columns`` through Airflow's console."""
    if output == "json":
        _out(json.dumps(rows, indent=2))
    elif output == "yaml":
        _out(yaml.safe_dump(rows, sort_keys=False).rstrip("\n"))
    else:  # Airflow's console reads rich markup: "[backfill] api_url" is text here
        AirflowConsole(file=sys.__stdout__).print_as(
            data=[{c: _plain(row.get(c)) for c in columns} for row in rows], output=output
        )


def _plain(value: Any) -> Any:
    return escape(value) if isinstance(value, str) else value


def _out(text: str) -> None:
    """Write to the process's own stdout: Airflow's logging may have taken over ``sys.stdout``."""
    print(text, file=sys.__stdout__, flush=True)


def _print_plan(plan: PlanOut, output: str) -> None:
    data = plan.model_dump(mode="json")
    if output in ("table", "plain"):
        data = {**{c: data[c] for c in PLAN_COLUMNS}, **{f"lots {s}": n for s, n in plan.counts.items() if n}}
    _print([data], output, tuple(data))


def _text(path: str) -> str:
    return sys.stdin.read() if path == "-" else Path(path).read_text()


@_reports_errors
def create(args: Any) -> None:
    _create([BackfillPlan.from_yaml(_text(args.file))], args)  # YAML is a superset of JSON


@_reports_errors
def import_request(args: Any) -> None:
    """A cloud scheduler's backfill request, translated (``plan.translate``), then as ``create``."""
    from airflow_backfill_provider import settings
    from airflow_backfill_provider.plan.translate import IdMap, as_new_backfill, translate_all
    from airflow_backfill_provider.plan.translate.request import read_request_text

    ids = IdMap.from_file(args.id_map or settings.id_map_path(), settings.unmapped_resource_groups())
    specs = as_new_backfill(translate_all(args.system, read_request_text(_text(args.file)), ids))
    if args.output in ("table", "plain"):
        for spec in specs:
            _out(f"# the {args.system} request as a plan:\n{spec.to_yaml().rstrip()}")
    _create(specs, args)


def _create(specs: list[BackfillPlan], args: Any) -> None:
    """Preview or create the plans (one, or one per DAG of a cloud request), all in one transaction;
    a translated request's warnings are kept with them."""
    notes = list(getattr(specs, "warnings", ()))
    with _session() as session:
        if args.preview:
            found = [planning.preview(spec, session, notes=notes) for spec in specs]
            _print(
                [lot.model_dump(mode="json") for one in found for lot in one.lots], args.output, LOT_COLUMNS
            )
            if args.output in ("table", "plain"):
                for one in found:
                    _out(
                        f"{one.total} lots of {', '.join(d.dag_id for d in one.dags)} ({one.timezone}), "
                        f"plan name {one.name}"
                    )
                    if one.asset_consumers or one.asset_consumers_hidden:
                        hidden = (
                            f" and {one.asset_consumers_hidden} you may not read"
                            if one.asset_consumers_hidden
                            else ""
                        )
                        _out(f"its asset events schedule: {', '.join(one.asset_consumers)}{hidden}")
                    for warning in one.warnings:
                        _out(f"warning: {warning}")
            return
        user = _cli_user()
        created = committed(
            session, lambda: [creating.create(spec, session, user=user, notes=notes) for spec in specs]
        )
    for made in created:
        if args.output in ("table", "plain"):
            _out(("created" if made.created else "exists, same content:") + f" plan {made.plan.name}")
            _print_plan(made.plan, args.output)
    if args.output not in ("table", "plain"):
        _print([made.plan.model_dump(mode="json") for made in created], args.output, PLAN_COLUMNS)
    if args.wait:
        for made in created:
            _wait(made.plan.name)


def _bar(plan: PlanOut, width: int = 40) -> str:
    done = sum(plan.counts.get(s.value, 0) for s in FINAL_LOTS)
    total = max(plan.total_lots, 1)
    filled = int(width * done / total)
    states = " ".join(f"{s.value}={plan.counts[s.value]}" for s in LotState if plan.counts.get(s.value))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{plan.total_lots} {plan.state}: {states}"


def _wait(ref: str, poll: float = 2.0) -> None:
    """Follow the plan: one progress line per change; exit 1 unless it succeeds."""
    last = ""
    while True:
        plan = _plan(ref)
        line = _bar(plan)
        if line != last:
            _out(line)
            last = line
        if plan.state in FINAL_PLANS:
            if plan.state != PlanState.SUCCESS:
                print(f"error: plan {plan.name} ended {plan.state}", file=sys.stderr)
                raise SystemExit(1)
            return
        time.sleep(poll)


@_reports_errors
def list_plans(args: Any) -> None:
    with _session() as session:
        found = queries.list_plans(
            session,
            dag_id=args.dag_id,
            state=_state(PlanState, args.state),
            limit=args.limit,
            offset=args.offset,
        )
    _print([p.model_dump(mode="json") for p in found.plans], args.output, PLAN_COLUMNS)


def _state(kind: type[T], word: str | None) -> T | None:
    """A state word given on the command line, or the same error the API gives for a wrong one."""
    if word is None:
        return None
    try:
        return kind(word)
    except ValueError:
        words = ", ".join(s.value for s in kind)
        raise PlanValidationError(
            [FieldError("state", f"{word!r} is not a state: use one of {words}")]
        ) from None


def _plan(ref: str) -> PlanOut:
    with _session() as session:
        return queries.plan_out(queries.get_plan(ref, session), session)


@_reports_errors
def show(args: Any) -> None:
    _print_plan(_plan(args.plan), args.output)


@_reports_errors
def lots(args: Any) -> None:
    with _session() as session:
        found = queries.list_lots(
            queries.get_plan(args.plan, session),
            session,
            state=_state(LotState, args.state),
            limit=args.limit,
            offset=args.offset,
        )
    _print([lot.model_dump(mode="json") for lot in found.lots], args.output, LOT_COLUMNS)


def _cli_user() -> str:
    """Who acts from the CLI, as Airflow's audit log shows it."""
    return f"cli:{getpass.getuser()}"


def _steer(action: Callable[..., PlanOut], args: Any, **kw: Any) -> None:
    with _session() as session:
        plan = committed(session, lambda: action(args.plan, session, user=_cli_user(), **kw))
    _print_plan(plan, args.output)


@_reports_errors
def pause(args: Any) -> None:
    _steer(steering.pause, args)


@_reports_errors
def resume(args: Any) -> None:
    _steer(steering.resume, args)


@_reports_errors
def cancel(args: Any) -> None:
    _steer(steering.cancel, args)


@_reports_errors
def retry(args: Any) -> None:
    _steer(steering.retry, args, indexes=args.index)


def doctor(args: Any) -> None:
    """Whether this deployment can run plans: each check, what it found and the fix; exits 1 when a
    required check fails (the controller DAG is needed only for notifications)."""
    try:
        with _session() as session:
            found = health.diagnose(session)
    except Exception as exc:  # not even a session: say so as a failed check
        found = [
            health.Check("database", False, f"{type(exc).__name__}: {exc}", "make the database reachable")
        ]
    _print([c.to_dict() for c in found], args.output, ("name", "ok", "found", "fix"))
    if any(c.required and not c.ok for c in found):
        raise SystemExit(1)
