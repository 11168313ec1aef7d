"""At start-up the gateway checks what Redis lets it check and warns loudly (without refusing
to start) when Redis would lose its records: keys evicted under memory pressure, no
append-only file. Each test runs a Redis of its own on a spare port, set up wrongly on purpose;
the shared test Redis is never reconfigured."""

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.store.connection import check_redis_settings, open_redis
from bench.servers import free_port
from tests.conftest import AppFactory, LogLines
from tests.fake_insurup import FakeInsurUp
from tests.fixtures.redis import start_own_redis, until_redis_up


@pytest.fixture
def own_redis(request: pytest.FixtureRequest) -> Iterator[int]:
    options: tuple[str, ...] = request.param
    port, folder = free_port(), Path(tempfile.mkdtemp(prefix="bff-redis-check-"))
    server = start_own_redis(port, folder, *options)
    try:
        yield port
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


async def _lines_saying(log_lines: LogLines, text: str, *, within: float = 5.0) -> list[str]:
    # The check runs in the background of the app's start-up: poll for its line, boundedly.
    for _ in range(int(within / 0.02)):
        if found := [line for line in log_lines.lines if text in line]:
            return found
        await asyncio.sleep(0.02)
    raise AssertionError(f"no log line says {text!r}")


@pytest.mark.parametrize(
    "own_redis", [("--maxmemory-policy", "allkeys-lru", "--appendonly", "no")], indirect=True
)
async def test_an_evicting_redis_is_a_loud_warning_at_start_up_not_a_refusal(
    own_redis: int,
    make_app: AppFactory,
    settings: Settings,
    insurup: FakeInsurUp,
    log_lines: LogLines,
) -> None:
    await until_redis_up(own_redis)
    local = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{own_redis}/0"})
    async with make_app(local) as api:
        evicts = await _lines_saying(log_lines, "maxmemory-policy is allkeys-lru")
        assert '"level":"WARNING"' in evicts[0].replace(" ", "")
        assert await _lines_saying(log_lines, "appendonly no")
        assert (await api.get("/healthz")).status_code == 200  # started all the same


@pytest.mark.parametrize(
    "own_redis",
    [("--appendonly", "yes", "--maxmemory-policy", "noeviction", "--appendfsync", "everysec")],
    indirect=True,
)
async def test_a_redis_that_keeps_everything_gets_no_warning(
    own_redis: int, log_lines: LogLines
) -> None:
    await until_redis_up(own_redis)
    client = open_redis(f"redis://127.0.0.1:{own_redis}/0", timeout=1)
    try:
        await check_redis_settings(client, seconds=5)
    finally:
        await client.aclose()
    assert any("redis settings checked" in line for line in log_lines.lines)
    assert not [line for line in log_lines.lines if '"WARNING"' in line.replace(" ", "")]


@pytest.mark.parametrize("own_redis", [("--rename-command", "CONFIG", "")], indirect=True)
async def test_a_redis_that_hides_its_configuration_is_said_to_be_unchecked(
    own_redis: int, log_lines: LogLines
) -> None:
    await until_redis_up(own_redis)
    client = open_redis(f"redis://127.0.0.1:{own_redis}/0", timeout=1)
    try:
        await check_redis_settings(client, seconds=5)
    finally:
        await client.aclose()
    assert await _lines_saying(log_lines, "could not check the Redis settings (CONFIG is not")


async def test_a_redis_that_is_down_at_start_up_delays_nothing(log_lines: LogLines) -> None:
    client = open_redis(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2)
    try:
        async with asyncio.timeout(5):
            await check_redis_settings(client, seconds=1)
    finally:
        await client.aclose()
    assert await _lines_saying(log_lines, "Redis did not answer at start-up")
