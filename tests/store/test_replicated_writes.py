"""With `BFF_REDIS_WAIT_REPLICAS`, a write is acknowledged only once a replica has it (Redis
WAIT on the write's own connection): a failover cannot take back what a customer was told.

Each test runs a master and its replica of its own on spare ports; the replica is frozen
(SIGSTOP) to be a replica that does not confirm, as one cut off by a failover does."""

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel

from app.config import Settings
from app.errors import StoreUnavailable
from app.store.connection import NotReplicated, check_redis_settings, open_redis
from app.store.idempotency import IdempotencyStore
from app.store.keys import Keys
from bench.servers import free_port
from tests.conftest import AppFactory, LogLines
from tests.fake_insurup import FakeInsurUp
from tests.fixtures.redis import start_own_redis, until_redis_up
from tests.helpers import LOGIN_BODY

BEARER = {"X-Session-Transport": "bearer"}


class Answer(BaseModel):
    value: str


@dataclass
class Pair:
    master: int
    replica: int
    replica_process: "subprocess.Popen[bytes]"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.master}/0"

    @contextmanager
    def replica_frozen(self) -> Iterator[None]:
        os.kill(self.replica_process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.replica_process.pid, signal.SIGCONT)


async def _replica_in_sync(master: int) -> None:
    client = aioredis.Redis(host="127.0.0.1", port=master, socket_timeout=1)
    try:
        for _ in range(200):
            info = await client.info("replication")
            replica = info.get("slave0")
            if isinstance(replica, dict) and replica.get("state") == "online":
                return
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise AssertionError("the replica did not come online")


async def _replica_caught_up(master: int) -> None:
    """The replica has acknowledged everything the master wrote (after being stopped, it takes
    a moment on a busy machine, and a write meanwhile is not confirmed in time)."""
    client = aioredis.Redis(host="127.0.0.1", port=master, socket_timeout=1)
    try:
        for _ in range(200):
            info = await client.info("replication")
            replica = info.get("slave0")
            offset = info.get("master_repl_offset")
            if isinstance(replica, dict) and replica.get("offset") == offset:
                return
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    raise AssertionError("the replica did not catch up")


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    folder = Path(tempfile.mkdtemp(prefix="bff-redis-pair-"))
    master_port, replica_port = free_port(), free_port()
    (folder / "m").mkdir()
    (folder / "r").mkdir()
    master = start_own_redis(
        master_port, folder / "m", "--maxmemory-policy", "noeviction",
        "--repl-diskless-sync-delay", "0",
    )  # fmt: skip
    replica = start_own_redis(
        replica_port, folder / "r", "--replicaof", "127.0.0.1", str(master_port)
    )
    try:
        await until_redis_up(master_port)
        await until_redis_up(replica_port)
        await _replica_in_sync(master_port)
        yield Pair(master_port, replica_port, replica)
    finally:
        for server in (replica, master):
            os.kill(server.pid, signal.SIGCONT)  # a test that failed frozen
            server.terminate()
            server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


async def test_a_write_waits_for_its_replica_and_the_replica_has_it_when_acknowledged(
    pair: Pair,
) -> None:
    client = open_redis(pair.url, timeout=3, replicas=1, replica_wait_ms=2000)
    replica = aioredis.Redis(host="127.0.0.1", port=pair.replica)
    try:
        with pair.replica_frozen():

            async def write_one() -> object:
                return await client.set("k", "acknowledged")

            write = asyncio.create_task(write_one())
            await asyncio.sleep(0.3)
            assert not write.done(), "the write was acknowledged before its replica had it"
        assert await asyncio.wait_for(write, 3) is True
        assert await replica.get("k") == b"acknowledged"  # no waiting: it is already there
    finally:
        await client.aclose()
        await replica.aclose()


async def test_a_write_no_replica_confirms_is_not_acknowledged_and_the_connection_stays_usable(
    pair: Pair,
) -> None:
    client = open_redis(pair.url, timeout=2, replicas=1, replica_wait_ms=100, max_connections=1)
    try:
        with pair.replica_frozen():
            started = time.monotonic()
            with pytest.raises(NotReplicated):
                await client.set("single", "1")
            assert time.monotonic() - started >= 0.1  # the WAIT ran its course
            async with client.pipeline(transaction=True) as pipe:
                pipe.set("piped", "1")
                pipe.expire("piped", 60)
                with pytest.raises(NotReplicated):
                    await pipe.execute()
            script = client.register_script("return redis.call('SET', KEYS[1], ARGV[1])")
            with pytest.raises(NotReplicated):
                await script(keys=["scripted"], args=["1"])
            # Reads and expiry touches do not wait (the hot path's GETEX among them).
            started = time.monotonic()
            assert await client.getex("single", ex=60) == b"1"
            assert await client.get("piped") == b"1"
            assert time.monotonic() - started < 0.1
            # The same single connection answered each command with its own reply.
            with pytest.raises(Exception, match="arguments must be strings"):
                await script(keys=["scripted"], args=[])
        await _replica_caught_up(pair.master)
        assert await client.set("after", "2") is True
        assert await client.get("after") == b"2"
    finally:
        await client.aclose()


async def test_an_unconfirmed_idempotency_record_is_a_503_and_the_retry_runs_at_once(
    pair: Pair,
) -> None:
    client = open_redis(pair.url, timeout=2, replicas=1, replica_wait_ms=100)
    store = IdempotencyStore(client, keys=Keys("t:"))

    async def run() -> Answer:
        return Answer(value="done")

    def once() -> Awaitable[Answer]:
        return store.once(
            owner="c", scope="s", key="k", fingerprint="f", lease_seconds=60,
            run=run, answer=Answer,
        )  # fmt: skip

    try:
        with pair.replica_frozen(), pytest.raises(StoreUnavailable):
            await once()
        await _replica_caught_up(pair.master)
        # The unconfirmed pending record, on the master all the same, was taken back: the
        # client's retry runs now, not after the lease.
        assert (await once()).value == "done"
    finally:
        await client.aclose()


async def test_a_sign_in_no_replica_confirms_is_a_503_not_an_acknowledged_session(
    pair: Pair, make_app: AppFactory, settings: Settings, insurup: FakeInsurUp, log_lines: LogLines
) -> None:
    local = settings.model_copy(
        update={"redis_url": pair.url, "redis_wait_replicas": 1, "redis_wait_milliseconds": 100}
    )
    async with make_app(local) as api:
        with pair.replica_frozen():
            refused = await api.post("/api/v1/session", json=LOGIN_BODY, headers=BEARER)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "store_unavailable"
        await _replica_caught_up(pair.master)
        started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=BEARER)
        assert started.status_code == 202, started.text
    assert any('"error":"NotReplicated"' in line.replace(" ", "") for line in log_lines.lines)
    assert not [line for line in log_lines.lines if "Traceback" in line]


async def test_start_up_says_when_replicas_are_missing_or_not_waited_for(
    pair: Pair, log_lines: LogLines
) -> None:
    client = open_redis(pair.url, timeout=1)
    try:
        await check_redis_settings(client, seconds=5, replicas=2)
        assert any("REDIS WRITES WILL FAIL" in line for line in log_lines.lines)
        await check_redis_settings(client, seconds=5, replicas=0)
        assert any("a failover can lose acknowledged writes" in line for line in log_lines.lines)
        log_lines.lines.clear()
        await check_redis_settings(client, seconds=5, replicas=1)
        assert not [line for line in log_lines.lines if "replica" in line]
    finally:
        await client.aclose()


def test_the_wait_must_fit_inside_the_command_timeout(settings: Settings) -> None:
    with pytest.raises(ValueError, match="BFF_REDIS_WAIT_MILLISECONDS"):
        Settings.model_validate(
            {
                **settings.model_dump(),
                "redis_wait_replicas": 1,
                "redis_wait_milliseconds": 2000,
                "redis_timeout_seconds": 2,
            }
        )
