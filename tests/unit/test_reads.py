"""The provider's GET requests are handled at most ``[backfill] concurrent_reads`` at a time per
process (plugin/reads.py); writes and the page's static files do not wait for them."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from airflow_backfill_provider.plugin import reads


def test_reads_wait_their_turn_and_writes_do_not(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(reads.settings, "concurrent_reads", lambda: 2)
    monkeypatch.setattr(reads, "_slots", [])
    app = FastAPI()
    reads.install(app)
    inside = {"now": 0, "most": 0, "writes": 0}

    async def hold() -> None:
        inside["now"] += 1
        inside["most"] = max(inside["most"], inside["now"])
        await asyncio.sleep(0.05)
        inside["now"] -= 1

    @app.get("/plans/{name}")
    async def read(name: str) -> dict:
        await hold()
        return {"name": name}

    @app.post("/plans/{name}/cancel")
    async def write(name: str) -> dict:
        inside["writes"] += 1
        return {"name": name}

    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            gets = [client.get(f"/plans/p{i}") for i in range(8)]
            posts = [client.post(f"/plans/p{i}/cancel") for i in range(3)]
            answers = await asyncio.gather(*gets, *posts)
        return [a.status_code for a in answers]

    statuses = asyncio.run(scenario())
    assert statuses == [200] * 11
    assert inside["most"] == 2, "more reads ran at once than [backfill] concurrent_reads allows"
    assert inside["writes"] == 3
