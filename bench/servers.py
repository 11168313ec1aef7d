"""Serve an ASGI app with uvicorn on a free loopback port, inside the caller's event loop
(tests, load runs)."""

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serving(app: ASGIApp, port: int | None = None) -> AsyncIterator[str]:
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


ROOT = Path(__file__).resolve().parent.parent


def start_replica(port: int, env: dict[str, str]) -> "subprocess.Popen[bytes]":
    """A gateway replica in its own process (so a test can kill it), configured by env."""
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    return subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        command,
        cwd=ROOT,
        env={**base, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def wait_healthy(base_url: str, *, seconds: float = 20) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(int(seconds / 0.05)):
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{base_url} did not become healthy")
