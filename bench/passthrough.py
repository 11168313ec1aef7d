"""The yardstick: a bare pass-through proxy (FastAPI + aiohttp), no session, no normalising."""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Response

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9")


def create_app() -> FastAPI:
    state: dict[str, aiohttp.ClientSession] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state["http"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        yield
        await state["http"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/v1/quotes/{quote_id}")
    async def quote(quote_id: str) -> Response:
        async with state["http"].get(f"{UPSTREAM}/api/proposals/{quote_id}") as upstream:
            body = await upstream.read()
        return Response(content=body, media_type="application/json")

    return app
