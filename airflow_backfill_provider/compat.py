"""What differs between the Airflow releases the provider runs on, in one place.

Each name here says what a release does, read from the installed Airflow, never from its version
number; the rest of the package asks these and nothing else.
"""

from __future__ import annotations

import inspect

from airflow import policies

MUTATION_HOOK_GETS_DAG_RUN = "dag_run" in inspect.signature(policies.task_instance_mutation_hook).parameters
"""Airflow 3.3's ``task_instance_mutation_hook(task_instance, dag_run)``; 3.2's takes the task
instance only (its run is ``task_instance.dag_run``). pluggy refuses an implementation that names an
argument the installed hookspec lacks, and then no ``airflow`` command starts at all."""
