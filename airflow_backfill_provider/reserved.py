"""Names the provider reserves in Airflow: used by the service, the engine and the plan model alike.

Plans may not use them (``pool: backfill_parked``, the conf key, the controller DAG).
"""

from __future__ import annotations

CONTROLLER_DAG_ID = "backfill_plan_controller"
"""the DAG whose runs drive plans (task ``drive``) and call their notifiers (task ``notify``)"""
PARKED_POOL = "backfill_parked"
"""0-slot pool holding dry-run task instances until Airflow finds them ready"""
PARKED_POOL_DESCRIPTION = (
    "Dry-run task instances of backfill plans wait here until their upstream tasks are done. "
    "Keep its slots at 0: any slot would let a dry-run task run."
)
PLAN_CONF_KEY = "__backfill_plan__"
"""key of a lot run's conf: the plan's name, dry-run tasks and ``task_params``, signed by the service"""
RUN_ID_PREFIX = "backfill_plan__"
DRIVER_TOKEN_HEADER = "X-Backfill-Driver-Token"
RENDERED_XCOM_KEY = "backfill_plan_rendered_fields"
"""XCom in which a lot run's task keeps its rendered templated fields: Airflow keeps its own copy only
for a DAG's 30 newest runs, and a backfilled old date is never among them"""
