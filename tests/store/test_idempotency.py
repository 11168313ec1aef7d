"""Idempotency records against a real Redis: a key runs once, and a failed attempt frees only
its own record."""

import asyncio
from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis
from pydantic import BaseModel

from app.errors import RequestInProgress
from app.store.idempotency import IdempotencyStore
from app.store.keys import Keys


class Answer(BaseModel):
    value: str


async def test_an_attempt_that_outlived_its_lease_and_fails_leaves_its_successor_s_key_alone(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    store = IdempotencyStore(redis_client, keys=Keys(prefix))
    first_may_fail, second_started, second_may_finish = (asyncio.Event() for _ in range(3))

    async def slow_then_failing() -> Answer:
        await first_may_fail.wait()
        raise RuntimeError("InsurUp said no")

    async def third_run() -> Answer:
        return Answer(value="third")  # must not run: the second attempt holds the key

    async def second_run() -> Answer:
        second_started.set()
        await second_may_finish.wait()
        return Answer(value="second")

    def once(run: Callable[[], Awaitable[Answer]]) -> "asyncio.Task[Answer]":
        attempt = store.once(
            owner="c", scope="s", key="k", fingerprint="f", lease_seconds=1,
            run=run, answer=Answer,
        )  # fmt: skip
        return asyncio.create_task(attempt)

    first = once(slow_then_failing)
    await asyncio.sleep(1.2)  # the first attempt's lease has lapsed: the key is free again
    second = once(second_run)
    await second_started.wait()
    first_may_fail.set()
    with pytest.raises(RuntimeError):
        await first
    # The second attempt still holds the key: a third waits for it instead of running again.
    with pytest.raises(RequestInProgress):
        await store.once(
            owner="c", scope="s", key="k", fingerprint="f", lease_seconds=1,
            run=third_run, answer=Answer,
        )  # fmt: skip
    second_may_finish.set()
    assert (await second).value == "second"
