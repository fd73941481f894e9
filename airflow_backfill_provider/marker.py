"""A plan's marker in a lot run's conf: what the service tells the scheduler and the workers about one
lot run, signed for that run.

The service writes it (``service/materialise.py``) under the reserved conf key; it holds the plan's
dry-run tasks, the lot's ``task_params`` and the plan's routing (pool, queue, priority), and a
nonce the lot row keeps. Two places read it, each only once its signature is the service's for this
very run (``signing.RunBinding``):

- the worker (``engine/policy.py``): dry-run tasks do nothing, ``task_params`` reach their task;
- Airflow's task-instance mutation hook, wherever task instances are made or reset — a mapped
  task's expansion in the scheduler, a clear from the UI — so the plan's pool, queue and priority
  stay on every task instance of the run (``apply_routing``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_backfill_provider import signing
from airflow_backfill_provider.reserved import PLAN_CONF_KEY

DB_SAFE_MINIMUM, DB_SAFE_MAXIMUM = -(2**31) + 1, 2**31 - 1
"""priorities Airflow's database column holds (Airflow's ``db_safe_priority``)"""


class MarkerError(ValueError):
    """A run carries the reserved conf key, but not as the service signed it for this run."""


@dataclass(frozen=True)
class LotMarker:
    plan: str
    dry_run: tuple[str, ...] = ()
    task_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pool: str | None = None
    queue: str | None = None
    priority_weight: int | None = None
    weight_rule: str | None = None
    nonce: str = ""
    suppress_asset_events: bool = False
    """the plan's ``asset_events: suppress``: its tasks run without outlets (the service records the
    asset changes itself, queueing no consumer)"""

    def content(self) -> dict[str, Any]:
        """What is signed, and written beside the signature."""
        found: dict[str, Any] = {
            "plan": self.plan,
            "dry_run": sorted(self.dry_run),
            "task_params": dict(self.task_params),
            "nonce": self.nonce,
        }
        routing = {
            "pool": self.pool,
            "queue": self.queue,
            "priority_weight": self.priority_weight,
            "weight_rule": self.weight_rule,
        }
        found.update({k: v for k, v in routing.items() if v is not None})
        if self.suppress_asset_events:
            found["asset_events"] = "suppress"
        return found

    def conf_entry(self, binding: signing.RunBinding) -> dict[str, Any]:
        content = self.content()
        return {**content, "signature": signing.sign(binding, content)}

    @property
    def routes(self) -> bool:
        return any(v is not None for v in (self.pool, self.queue, self.priority_weight, self.weight_rule))


def marker_of(dag_run: Any) -> LotMarker | None:
    """The run's marker if the service signed it for this run; None for a run without one.

    Raises MarkerError for a marker that is not the service's for this run (written by hand, copied
    from another run, or into a run re-made by hand under the same id), and SigningUnavailable
    where no public key is configured: nothing is acted on unsigned.
    """
    conf = getattr(dag_run, "conf", None) or {}
    if not isinstance(conf, dict) or PLAN_CONF_KEY not in conf:
        return None
    entry = conf[PLAN_CONF_KEY]
    run_id = getattr(dag_run, "run_id", None)
    if not isinstance(entry, dict):
        raise MarkerError(f"run {run_id} carries a '{PLAN_CONF_KEY}' conf that is not a backfill plan's")
    content = {k: v for k, v in entry.items() if k != "signature"}
    binding, signature = signing.RunBinding.of(dag_run), entry.get("signature")
    content_json = json.dumps(content, sort_keys=True, default=str)
    if not isinstance(signature, str) or not _verified(binding, content_json, signature):
        raise MarkerError(
            f"run {run_id} carries a '{PLAN_CONF_KEY}' conf (dry-run tasks, task_params, routing) that the "
            "backfill service did not sign for this run: refusing to act on it. Only plans put it in runs; "
            "if this is a plan's run, give this host the service's public key ([backfill] signing_public_keys)"
        )
    dry_run = content.get("dry_run") or []
    if not isinstance(dry_run, list) or not all(isinstance(t, str) for t in dry_run):
        raise MarkerError(f"run {run_id}: the plan's dry_run is not a list of task ids")
    params = content.get("task_params")
    return LotMarker(
        plan=str(content.get("plan")),
        dry_run=tuple(dry_run),
        task_params=params if isinstance(params, dict) else {},
        pool=content.get("pool"),
        queue=content.get("queue"),
        priority_weight=content.get("priority_weight"),
        weight_rule=content.get("weight_rule"),
        nonce=str(content.get("nonce") or ""),
        suppress_asset_events=content.get("asset_events") == "suppress",
    )


@functools.lru_cache(maxsize=512)
def _verified(binding: signing.RunBinding, content_json: str, signature: str) -> bool:
    """One check per run and content, however many of its task instances ask (the mutation hook
    runs for each)."""
    return signing.verify(binding, json.loads(content_json), signature)


def weight_of(task: Any, dag: Any, marker: LotMarker) -> int:
    """A task's priority in the plan's lot run: the plan's ``priority_weight`` (else the task's own)
    summed under the plan's ``weight_rule`` as Airflow's weight rules sum them, then clamped to what
    the database holds, as Airflow does."""

    def base(other: Any) -> int:
        return marker.priority_weight if marker.priority_weight is not None else int(other.priority_weight)

    total = base(task)
    if marker.weight_rule in ("downstream", "upstream") and dag is not None:
        relatives = task.get_flat_relative_ids(upstream=marker.weight_rule == "upstream")
        total += sum(base(dag.get_task(r)) for r in relatives if dag.has_task(r))
    return max(DB_SAFE_MINIMUM, min(DB_SAFE_MAXIMUM, total))


def apply_routing(ti: Any, task: Any, dag: Any, marker: LotMarker) -> None:
    """The plan's pool, queue and priority on one task instance of its lot run (dry-run tasks keep
    theirs: they are parked, or run as no-ops)."""
    if ti.task_id in marker.dry_run:
        return
    if marker.pool is not None:
        ti.pool = marker.pool
    if marker.queue is not None:
        ti.queue = marker.queue
    if marker.priority_weight is not None or marker.weight_rule is not None:
        ti.priority_weight = weight_of(task, dag, marker)
