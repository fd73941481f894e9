"""The ``airflow backfill-plans`` command group listed under ``cli`` in get_provider_info."""

from __future__ import annotations

from airflow.cli.cli_config import ARG_OUTPUT, ActionCommand, Arg, GroupCommand, lazy_load_command

from airflow_backfill_provider.plan.translate import SYSTEMS

COMMANDS = "airflow_backfill_provider.cli.commands"

ARG_FILE = Arg(("file",), help="Plan file (YAML or JSON); '-' reads standard input")
ARG_REQUEST = Arg(
    ("file",), help="The cloud scheduler's request: JSON, YAML or its query string; '-' reads stdin"
)
ARG_FROM = Arg(
    ("--from",),
    help="The system the request is written for",
    dest="system",
    required=True,
    choices=SYSTEMS,
)
ARG_ID_MAP = Arg(
    ("--id-map",),
    help="YAML id map: the system's numeric ids as Airflow DAG and task ids (default: [backfill] id_map)",
)
ARG_PLAN = Arg(("plan",), help="Plan id or name")
ARG_PREVIEW = Arg(("--preview",), help="Validate and show the lots, create nothing", action="store_true")
ARG_WAIT = Arg(
    ("--wait",), help="Follow the plan with a progress bar; exit non-zero if it fails", action="store_true"
)
ARG_STATE = Arg(("--state",), help="Only this state")
ARG_DAG = Arg(("--dag-id",), help="Only plans of this DAG")
ARG_LIMIT = Arg(("--limit",), help="At most this many rows", type=int, default=100)
ARG_OFFSET = Arg(("--offset",), help="Skip this many rows", type=int, default=0)
ARG_INDEX = Arg(("--index",), help="Only these lot indexes (repeatable)", type=int, action="append")


def _command(name: str, help: str, args: tuple[Arg, ...], func: str | None = None) -> ActionCommand:
    return ActionCommand(
        name=name, help=help, func=lazy_load_command(f"{COMMANDS}.{func or name}"), args=args
    )


def get_cli_commands() -> list[GroupCommand]:
    return [
        GroupCommand(
            name="backfill-plans",
            help="Create, follow and steer backfill plans",
            subcommands=[
                _command(
                    "create", "Create a plan from a file", (ARG_FILE, ARG_PREVIEW, ARG_WAIT, ARG_OUTPUT)
                ),
                _command(
                    "import",
                    "Create a plan from a DMS, DataWorks, WeData or Aloudata backfill request",
                    (ARG_FROM, ARG_REQUEST, ARG_ID_MAP, ARG_PREVIEW, ARG_WAIT, ARG_OUTPUT),
                    func="import_request",
                ),
                _command(
                    "list",
                    "List plans, newest first",
                    (ARG_DAG, ARG_STATE, ARG_LIMIT, ARG_OFFSET, ARG_OUTPUT),
                    func="list_plans",
                ),
                _command("show", "Show one plan", (ARG_PLAN, ARG_OUTPUT)),
                _command(
                    "lots",
                    "List a plan's lots in plan order",
                    (ARG_PLAN, ARG_STATE, ARG_LIMIT, ARG_OFFSET, ARG_OUTPUT),
                ),
                _command("pause", "Start no new lot", (ARG_PLAN, ARG_OUTPUT)),
                _command("resume", "Continue a paused plan", (ARG_PLAN, ARG_OUTPUT)),
                _command("cancel", "Cancel a plan and stop its running lots", (ARG_PLAN, ARG_OUTPUT)),
                _command("retry", "Run failed and blocked lots again", (ARG_PLAN, ARG_INDEX, ARG_OUTPUT)),
                _command(
                    "doctor",
                    "Check this deployment: plugin mounted, tables at head, keys, triggerer, controller DAG",
                    (ARG_OUTPUT,),
                ),
            ],
        )
    ]
