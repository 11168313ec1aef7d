"""A task cancelled while it talks to Redis stops. redis-py bounds socket writes with
`asyncio.wait_for`, which in Python 3.11 can complete the write and drop a cancellation that
arrived meanwhile; without the store's guard about one cancellation in twenty was lost, and a
background loop asked to stop (the payment reconciler's) ran on while its `aclose` waited
forever. Runs against the tests' Redis: one node, Sentinel or the cluster."""

import asyncio
import random

from app.store.connection import open_redis
from tests.conftest import REDIS_URL

TRIALS = 150


async def test_a_task_cancelled_during_redis_commands_always_stops(prefix: str) -> None:
    client = open_redis(REDIS_URL, timeout=2)
    key = f"{prefix}cancel:{{one}}"
    rng = random.Random(11)

    async def busy() -> None:
        while True:
            await client.get(key)
            async with client.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, 60)
                await pipe.execute()
            await asyncio.sleep(0.002)

    stopped = 0
    try:
        await client.ping()
        for _ in range(TRIALS):
            task = asyncio.create_task(busy())
            await asyncio.sleep(rng.random() * 0.01)
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=1)
            if not done:
                while not task.done():  # cancel until it stops, so that the test ends
                    task.cancel()
                    await asyncio.wait([task], timeout=0.1)
                break
            stopped += 1
    finally:
        await client.aclose()
    assert stopped == TRIALS, f"cancelled task {stopped + 1} went on running"
