"""SimpleAuthManager with one more kind of user: ``scoped``, who may act on a few DAGs only.

Airflow's SimpleAuthManager gives rights by role on every DAG at once; deployments with FAB or
Keycloak give them DAG by DAG. This subclass lets the tests be such a deployment: the user named
``scoped`` has the USER role, but only on the DAGs in ``SCOPED_DAGS``.
"""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

SCOPED_USER = "scoped"
SCOPED_DAGS = frozenset({"ledger_producer", "ledger_daily", "dw_sales_report"})
"""``dw_sales_report`` is scheduled by an asset of ``dw_sales``, which the scoped user may not read"""
RUNS_ONLY_USER = "auditor"
"""a VIEWER who may read DAG runs, but neither task instances nor task logs"""
CREATE_ONLY_USER = "creator"
"""a USER who may create runs but not change them (FAB: ``can_create`` without ``can_edit`` on DAG Runs)"""


class ScopedAuthManager(SimpleAuthManager):
    def is_authorized_dag(
        self, *, method: Any, user: Any, access_entity: Any = None, details: Any = None
    ) -> bool:
        if user.get_name() == RUNS_ONLY_USER and getattr(access_entity, "name", None) in (
            "TASK_INSTANCE",
            "TASK_LOGS",
        ):
            return False
        if user.get_name() == CREATE_ONLY_USER and method in ("PUT", "DELETE"):
            return False
        if user.get_name() == SCOPED_USER:
            dag_id = getattr(details, "id", None)
            if dag_id is None or dag_id not in SCOPED_DAGS:
                return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
