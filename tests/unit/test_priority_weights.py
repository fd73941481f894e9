"""The plan's ``weight_rule`` (DataWorks PriorityWeightStrategy), as Airflow's weight rules add up."""

from __future__ import annotations

from airflow_backfill_provider.service.materialise import priority_weights

# a -> b -> d, a -> c -> d
GRAPH = {"a": set(), "b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
BASE = {"a": 1, "b": 2, "c": 3, "d": 4}


def test_downstream_adds_every_task_below_once():
    assert priority_weights(GRAPH, BASE, "downstream") == {"a": 10, "b": 6, "c": 7, "d": 4}


def test_upstream_adds_every_task_above_once():
    assert priority_weights(GRAPH, BASE, "upstream") == {"a": 1, "b": 3, "c": 4, "d": 10}


def test_absolute_and_no_rule_keep_each_weight():
    assert priority_weights(GRAPH, BASE, "absolute") == BASE == priority_weights(GRAPH, BASE, None)
