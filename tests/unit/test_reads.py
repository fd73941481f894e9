"""The provider's reads are handled at most ``[backfill] concurrent_reads`` at a time per process
(plugin/reads.py), a turn taken only once the caller is authenticated; writes do not wait."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi import FastAPI, HTTPException, Request
from fastapi.routing import APIRoute

from airflow_backfill_provider.plugin import reads


def _user(request: Request) -> str:
    if request.headers.get("Authorization") != "Bearer good":
        raise HTTPException(401, "Not authenticated")
    return "someone"


def test_reads_wait_their_turn_strangers_and_writes_do_not(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reads.settings, "concurrent_reads", lambda: 2)
    monkeypatch.setattr(reads, "_slots", [])
    app = FastAPI()
    app.dependency_overrides[get_user] = _user
    inside = {"now": 0, "most": 0, "writes": 0}

    @app.get("/plans/{name}", dependencies=reads.ReadTurn)
    async def read(name: str) -> dict:
        inside["now"] += 1
        inside["most"] = max(inside["most"], inside["now"])
        await asyncio.sleep(0.2)
        inside["now"] -= 1
        return {"name": name}

    @app.post("/plans/{name}/cancel")
    async def write(name: str) -> dict:
        inside["writes"] += 1
        return {"name": name}

    async def scenario() -> tuple[list[int], list[int], float]:
        transport = httpx.ASGITransport(app=app)
        good = {"Authorization": "Bearer good"}
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            gets = [asyncio.ensure_future(client.get(f"/plans/p{i}", headers=good)) for i in range(6)]
            await asyncio.sleep(0.05)  # two reads hold the turns, four wait
            began = asyncio.get_running_loop().time()
            strangers = await asyncio.gather(*[client.get("/plans/p0") for _ in range(5)])
            posts = await asyncio.gather(*[client.post(f"/plans/p{i}/cancel") for i in range(3)])
            waited = asyncio.get_running_loop().time() - began
            answers = await asyncio.gather(*gets)
        return [a.status_code for a in answers], [a.status_code for a in strangers + posts], waited

    readers, others, waited = asyncio.run(scenario())
    assert readers == [200] * 6
    assert inside["most"] == 2, "more reads ran at once than [backfill] concurrent_reads allows"
    assert others == [401] * 5 + [200] * 3
    assert waited < 0.15, "a caller without credentials or a write waited for a read's turn"
    assert inside["writes"] == 3


def test_every_read_of_the_providers_app_takes_a_turn(monkeypatch: pytest.MonkeyPatch):
    from airflow_backfill_provider.plugin import app as plugin_app

    monkeypatch.setattr(plugin_app.signing, "check_configured", lambda: None)
    routes = [r for r in plugin_app.create_app().routes if isinstance(r, APIRoute) and "GET" in r.methods]
    assert routes
    untaken = [r.path for r in routes if not any(d.dependency is reads.read_turn for d in r.dependencies)]
    assert untaken == []
