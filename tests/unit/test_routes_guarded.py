"""Every route of the provider's API names who may call it in its signature: one of the guards of
``plugin/security.py`` is among its dependencies (reads, creates, steering, the driver, compat ids)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from airflow_backfill_provider.plugin import security


def _calls(dependant: Any) -> set[Any]:
    found = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def _routes(monkeypatch: pytest.MonkeyPatch) -> list[APIRoute]:
    from airflow_backfill_provider.plugin import app as plugin_app

    monkeypatch.setattr(plugin_app.signing, "check_configured", lambda: None)
    return [r for r in plugin_app.create_app().routes if isinstance(r, APIRoute)]


def test_every_route_depends_on_a_guard(monkeypatch: pytest.MonkeyPatch):
    routes = _routes(monkeypatch)
    assert len(routes) >= 18
    unguarded = [
        f"{sorted(r.methods)} {r.path}" for r in routes if not _calls(r.dependant) & set(security.GUARDS)
    ]
    assert unguarded == []


def test_each_route_has_exactly_one_guard(monkeypatch: pytest.MonkeyPatch):
    """One access check per request: a route that stacked two guards would ask the auth manager twice."""
    doubled = [
        (r.path, sorted(g.__name__ for g in _calls(r.dependant) & set(security.GUARDS)))
        for r in _routes(monkeypatch)
        if len(_calls(r.dependant) & set(security.GUARDS)) > 1
    ]
    assert doubled == []


def test_the_compat_reads_are_the_actions_the_guard_lets_readers_call():
    from airflow_backfill_provider.plugin.routes import compat

    assert {system: frozenset(actions) for system, actions in compat.READS.items()} == security.COMPAT_READS
