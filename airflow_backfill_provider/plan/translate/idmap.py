"""The id map: a cloud scheduler's numeric ids to Airflow's DAG and task ids (a YAML file).

.. code-block:: yaml

    dags:          # DMS DagId, DataWorks WorkflowId, Aloudata planId / planName
      "15001": dms_orders
    tasks:         # DMS StartNodeIds, DataWorks node / task ids, WeData TaskIds
      "74324": dw_sales.load
      "20250827115253729": wedata_orders     # a whole DAG (a WeData workflow task)
    projects:      # DataWorks IncludeProjectIds / ExcludeProjectIds: the DAGs of a project
      "100": [dw_sales, dw_report]
    dag_versions:  # DMS HistoryDagId: a version number of the DAG
      "16001": 1
    queues:        # DataWorks RuntimeResource, WeData resource groups (unmapped ones are refused)
      S_res_group_1: backfill
    unmapped_queues: refuse   # or ignore: run on the DAGs' own queues, with a warning
    notifiers:     # DataWorks Alert.NoticeType: a notification target of [backfill] notification_targets
      Sms: data-team-sms

    dataworks-legacy:   # a system's own ids, over the shared sections above
      tasks: {"1234": dw_xm.root}

Without a map (or for ids it does not list) ids are read verbatim: ``<dag_id>.<task_id>`` names a
task, ``<dag_id>`` a whole DAG; a numeric id then needs the map.
"""

from __future__ import annotations

import os
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from airflow_backfill_provider.exceptions import FieldError, PlanValidationError
from airflow_backfill_provider.plan.model import TARGET_NAME, TaskId, is_number
from airflow_backfill_provider.plan.translate.request import Request

MAX_ENTRIES = 100_000
_FILES: dict[str, tuple[int, IdMap]] = {}


class IdMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    dags: dict[str, TaskId] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    tasks: dict[str, TaskId] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    projects: dict[str, list[TaskId]] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    dag_versions: dict[str, int] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    queues: dict[str, TaskId] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    notifiers: dict[str, Annotated[str, Field(pattern=TARGET_NAME)]] = Field(
        default_factory=dict, max_length=100
    )
    tables: dict[str, str] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    """DAG id -> the table it writes (``catalog.schema.table``): Aloudata's mtGuid"""
    unmapped_queues: Literal["refuse", "ignore"] = "refuse"
    """a resource group ``queues`` does not map: refused by field (no worker would serve its name as a
    queue), or ignored with a warning so the DAG's own queues run the lots"""

    dms: IdMap | None = None
    dataworks: IdMap | None = None
    dataworks_legacy: IdMap | None = Field(default=None, alias="dataworks-legacy")
    wedata: IdMap | None = None
    aloudata: IdMap | None = None

    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)
    """per-map caches (the map is frozen): merged maps per system, reverse lookups"""

    def for_system(self, system: str) -> IdMap:
        """The sections of ``system`` (its ids are its own: DMS node 2 is not DataWorks node 2) over
        the shared ones; merged once per map, not per request."""
        key = f"system:{system}"
        if key not in self._derived:
            own = getattr(self, system.replace("-", "_"), None)
            if own is None:
                self._derived[key] = self
            else:
                merged = {
                    section: {**getattr(self, section), **getattr(own, section)}
                    for section in (
                        "dags",
                        "tasks",
                        "projects",
                        "dag_versions",
                        "queues",
                        "notifiers",
                        "tables",
                    )
                }
                self._derived[key] = IdMap.model_construct(  # both parts validated already
                    None, **merged, unmapped_queues=self.unmapped_queues
                )
        found: IdMap = self._derived[key]
        return found

    def dag_key(self, dag_id: str) -> str:
        """The id this map gives ``dag_id`` (its first), or ``dag_id`` itself."""
        if "reverse" not in self._derived:
            reverse: dict[str, str] = {}
            for key, value in self.dags.items():
                reverse.setdefault(value, key)
            self._derived["reverse"] = reverse
        return str(self._derived["reverse"].get(dag_id, dag_id))

    @field_validator(
        "dags", "tasks", "projects", "dag_versions", "queues", "notifiers", "tables", mode="before"
    )
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        """YAML reads ``15001:`` as a number: ids are compared as text."""
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @classmethod
    def from_file(cls, path: str, unmapped_queues: str | None = None) -> IdMap:
        """The map in the YAML file ``path`` (an empty map for ""), read again only when it changes;
        ``unmapped_queues`` (the deployment's ``[backfill] unmapped_resource_groups``) over the file's."""
        if unmapped_queues in ("refuse", "ignore"):
            found = cls.from_file(path)
            if found.unmapped_queues == unmapped_queues:
                return found
            key = f"{path}#{unmapped_queues}"
            if key not in found._derived:
                other = found.model_copy(update={"unmapped_queues": unmapped_queues})
                other._derived = {}
                found._derived[key] = other
            copy: IdMap = found._derived[key]
            return copy
        if not path:
            return cls()
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError as exc:
            raise PlanValidationError(
                [FieldError("id_map", f"{path} cannot be read: {exc.strerror}")], "the id map is missing"
            ) from None
        cached = _FILES.get(path)
        if cached is None or cached[0] != stamp:
            with open(path, encoding="utf-8") as handle:
                cached = (stamp, cls.from_yaml(handle.read()))
            _FILES[path] = cached
        return cached[1]

    @classmethod
    def from_yaml(cls, text: str) -> IdMap:
        try:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
            return cls.model_validate(data)
        except yaml.YAMLError as exc:
            raise PlanValidationError([FieldError("id_map", f"not YAML: {exc}")], "invalid id map") from None
        except ValidationError as exc:
            raise PlanValidationError(
                [FieldError("id_map." + ".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()],
                "invalid id map",
            ) from None

    # -- lookups: each records an error on the request, named by the request's field ------------

    def dag(self, request: Request, field: str, given: str) -> str | None:
        """The DAG a workflow / task-flow / plan id names."""
        if given in self.dags:
            return self.dags[given]
        if is_number(given):
            request.error(
                field, f"{given} is a {request.system} id: map it to a DAG id in the id map's `dags`"
            )
            return None
        return given

    def task(self, request: Request, field: str, given: str) -> tuple[str, str | None] | None:
        """``(dag_id, task_id)`` a node / task id names; ``task_id`` is None for a whole DAG."""
        target = self.tasks.get(given)
        if target is None:
            if is_number(given):
                request.error(
                    field,
                    f"{given} is a {request.system} id: map it to '<dag_id>.<task_id>' in the id map's `tasks`",
                )
                return None
            target = given
        dag_id, dot, task_id = target.partition(".")
        return dag_id, (task_id if dot else None)

    def project(self, request: Request, field: str, given: str) -> list[str]:
        if given in self.projects:
            return list(self.projects[given])
        if is_number(given):
            request.error(field, f"{given} is a project id: list its DAG ids in the id map's `projects`")
            return []
        return [given]

    def dag_version(self, request: Request, field: str, given: str) -> int | None:
        if given in self.dag_versions:
            return self.dag_versions[given]
        request.error(  # a system's history id is never an Airflow version number by chance
            field, f"{given!r}: map it to a version number of the DAG in the id map's `dag_versions`"
        )
        return None

    def original(self, section: str, airflow_id: str) -> str:
        """The system's id that ``section`` maps to ``airflow_id`` (the Airflow id when none does)."""
        return next((k for k, v in getattr(self, section).items() if v == airflow_id), airflow_id)

    def queue(self, request: Request, field: str, given: str, warnings: list[str]) -> str | None:
        """The queue a resource group is, by the map's ``queues``; an unmapped one is refused by field,
        or (``unmapped_queues: ignore``) left out with a warning."""
        if given in self.queues:
            return self.queues[given]
        if self.unmapped_queues == "ignore":
            warnings.append(
                f"{request.prefix}{field} {given!r} is not in the id map's `queues`: the lots run on the "
                "DAGs' own queues"
            )
            return None
        request.error(
            field,
            f"{given!r}: map the resource group to an executor queue in the id map's `queues` (no worker "
            "serves it by this name), or drop it to run on the DAGs' own queues",
        )
        return None

    def target(self, request: Request, field: str, given: str) -> str | None:
        """The notification target a notice type is told through (the id map's ``notifiers``)."""
        if given in self.notifiers:
            return self.notifiers[given]
        request.error(
            field,
            f"{given!r} alerts: map the notice type to a notification target of [backfill] "
            "notification_targets in the id map's `notifiers`, or drop the alert",
        )
        return None
