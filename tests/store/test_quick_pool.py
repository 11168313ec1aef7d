"""The Redis pool's quick way (`QuickPool`): an idle connection taken, or one given back, while
nobody waits skips redis-py's Condition, yet keeps its checks, and a waiter is still woken.
Runs on one Redis and on Sentinel's master (both use the pool); a cluster has pools of its own."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, BlockingConnectionPool

from app.store.connection import QuickPool, WaitingCluster, open_redis, parse_store_url
from tests.conftest import REDIS_URL


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    opened = open_redis(REDIS_URL, timeout=5, max_connections=3)
    if isinstance(cast(object, opened), WaitingCluster):
        await opened.aclose()
        pytest.skip("a cluster client's pools are redis-py's own, per node")
    assert isinstance(opened.connection_pool, QuickPool)
    yield opened
    await opened.aclose()


def _pool(client: aioredis.Redis) -> QuickPool:
    pool = client.connection_pool
    assert isinstance(pool, QuickPool)
    return pool


async def _take(pool: BlockingConnectionPool) -> AbstractConnection:
    connection: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]
    return connection


async def test_an_idle_connection_is_taken_and_given_back_without_the_condition(
    client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    await client.ping()  # the first connection is made the waiting way
    slow: list[str] = []
    original_get = BlockingConnectionPool.get_connection
    original_release = BlockingConnectionPool.release

    async def counted_get(self: BlockingConnectionPool, *args: Any, **kwargs: Any) -> Any:
        slow.append("get")
        return await original_get(self, *args, **kwargs)  # type: ignore[no-untyped-call]

    async def counted_release(self: BlockingConnectionPool, connection: Any) -> None:
        slow.append("release")
        await original_release(self, connection)

    monkeypatch.setattr(BlockingConnectionPool, "get_connection", counted_get)
    monkeypatch.setattr(BlockingConnectionPool, "release", counted_release)
    for n in range(20):
        assert await client.echo(f"n{n}") == f"n{n}".encode()
    assert slow == []
    # Four at once on three connections: one must wait, and that one goes the waiting way.
    answers = await asyncio.gather(*(client.echo(f"b{n}") for n in range(4)))
    assert answers == [f"b{n}".encode() for n in range(4)]
    assert "get" in slow


async def test_a_waiting_request_gets_the_connection_given_back(
    client: aioredis.Redis,
) -> None:
    pool = _pool(client)
    held = [await _take(pool) for _ in range(3)]
    order: list[str] = []

    async def use(name: str) -> None:
        connection = await _take(pool)
        order.append(name)
        await asyncio.sleep(0.01)
        await pool.release(connection)

    waiter = asyncio.create_task(use("waiter"))
    await asyncio.sleep(0.05)  # it waits: every connection is held
    assert order == []
    await pool.release(held.pop())  # wakes the waiter (a quick give-back would not)
    newcomer = asyncio.create_task(use("newcomer"))  # and finds somebody waiting
    async with asyncio.timeout(2):
        await asyncio.gather(waiter, newcomer)
    assert order == ["waiter", "newcomer"]
    for connection in held:
        await pool.release(connection)
    assert len(pool._in_use_connections) == 0
    assert len(pool._available_connections) == 3


async def test_a_connection_with_an_unread_answer_is_judged_as_redis_py_judges_it() -> None:
    """redis-py's pool refuses a connection with unread data, except when maintenance
    notifications may be on (RESP3, redis-py 8's default: an unsolicited push may sit in the
    buffer, and its parser skips those): the quick way defers to the same check."""

    async def next_answer_after_an_unread_one(pool_class: type[BlockingConnectionPool]) -> bytes:
        plain = open_redis(REDIS_URL, timeout=5, max_connections=3)
        kwargs = dict(plain.connection_pool.connection_kwargs)
        await plain.aclose()
        pool = pool_class(max_connections=3, timeout=5, **kwargs)
        client = aioredis.Redis.from_pool(pool)
        try:
            connection = await _take(pool)
            await connection.send_command("ECHO", "stale")  # its answer is never read
            await asyncio.sleep(0.1)  # the answer arrives in the connection's buffer
            await pool.release(connection)
            answer = await client.echo("fresh")
            assert isinstance(answer, bytes)
            return answer
        finally:
            await client.aclose()

    if parse_store_url(REDIS_URL).kind != "single":
        pytest.skip("compared on one Redis: a Sentinel pool's connections need their pool")
    assert await next_answer_after_an_unread_one(QuickPool) == (
        await next_answer_after_an_unread_one(BlockingConnectionPool)
    )


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    client: aioredis.Redis,
) -> None:
    pool = _pool(client)
    connection = await _take(pool)
    await connection.send_command("CLIENT", "ID")
    first = await connection.read_response()
    await pool.release(connection)
    killer = open_redis(REDIS_URL, timeout=5)
    try:
        await killer.execute_command("CLIENT", "KILL", "ID", first)  # type: ignore[no-untyped-call]
    finally:
        await killer.aclose()
    await asyncio.sleep(0.1)  # the close reaches the idle connection
    assert await client.execute_command("CLIENT", "ID") != first  # type: ignore[no-untyped-call]
    assert await client.echo("after") == b"after"


async def test_a_burst_past_the_pool_leaves_it_whole(client: aioredis.Redis) -> None:
    pool = _pool(client)
    async with asyncio.timeout(30):
        answers = await asyncio.gather(*(client.echo(f"x{n}") for n in range(300)))
    assert answers == [f"x{n}".encode() for n in range(300)]
    assert len(pool._in_use_connections) == 0
    assert len(pool._available_connections) == 3
    assert pool._waiting == 0
