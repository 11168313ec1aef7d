"""Redis restarted under load: requests during the outage get `503 store_unavailable` (never
a 500), and the gateway recovers by itself; with Redis persistence the sessions survive."""

import asyncio
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from app.config import Settings
from bench.servers import free_port
from tests.conftest import AppFactory
from tests.fake_insurup import FakeInsurUp
from tests.helpers import bearer, sign_in_bearer


def _redis(port: int, folder: Path) -> "subprocess.Popen[bytes]":
    # The production compose settings: append-only file, fsync every second.
    return subprocess.Popen(  # noqa: S603
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _shutdown(port: int, server: "subprocess.Popen[bytes]") -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown"], check=False)  # noqa: S603,S607
    server.wait(10)


async def _wait_redis(port: int, up: bool) -> None:
    for _ in range(200):
        probe = aioredis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=0.2)
        try:
            answered = bool(await probe.ping())
        except (OSError, RedisError):
            answered = False
        finally:
            await probe.aclose()
        if answered == up:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("redis did not change state")


async def test_a_redis_restart_under_load_is_503_then_recovers(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="bff-redis-"))
    server = _redis(port, folder)
    try:
        await _wait_redis(port, up=True)
        local = settings.model_copy(
            update={"redis_url": f"redis://127.0.0.1:{port}/0", "redis_timeout_seconds": 0.5}
        )
        async with make_app(local) as api:
            token = await sign_in_bearer(api)
            seen: Counter[int] = Counter()
            codes: Counter[str] = Counter()
            stop = asyncio.Event()

            async def customer() -> None:
                while not stop.is_set():
                    answer = await api.get("/api/v1/customer", headers=bearer(token))
                    seen[answer.status_code] += 1
                    if answer.status_code != 200:
                        codes[answer.json()["code"]] += 1
                    await asyncio.sleep(0.01)

            load = [asyncio.create_task(customer()) for _ in range(5)]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(_shutdown, port, server)
            await _wait_redis(port, up=False)
            await asyncio.sleep(0.5)
            during = dict(seen)
            server = _redis(port, folder)
            await _wait_redis(port, up=True)
            before_recovery = seen[200]
            for _ in range(200):
                if seen[200] > before_recovery + 20:
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.gather(*load)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    assert set(seen) <= {200, 503}, seen
    assert during.get(503, 0) > 0, "the outage was seen as 503"
    assert set(codes) == {"store_unavailable"}
    assert seen[200] > before_recovery + 20, "the gateway recovered and the session survived"
