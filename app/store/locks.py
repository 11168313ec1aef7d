"""One lease lock for every step that must run once across replicas: the token refresh, the
sale-opportunity step, the SMS-code check and the payment check.

A lock is `SET NX PX` with a random owner and is released only by that owner (one script).
A lease ends on its own, so a replica that dies holding one blocks the others for one lease
at most; leases therefore come from one policy: long enough for the InsurUp calls the holder
makes at their timeout, plus a margin. Whoever finds a lock taken waits, boundedly, for the
holder's outcome instead of doing the step a second time.
"""

import asyncio
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import redis.asyncio as aioredis

from app.store.connection import DEL_IF_EQUAL, guarded

T = TypeVar("T")

# Another replica holds the lock, so no local event can say when it is done: poll Redis.
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class LeasePolicy:
    """How long a lock is held: the holder's InsurUp calls at their timeout, plus a margin."""

    call_timeout: float
    margin: float = 5.0

    def lease(self, calls: int, *, extra: float = 0.0) -> float:
        return self.call_timeout * calls + extra + self.margin


class StillHeld(Exception):
    """The lock stayed taken, and its holder's outcome unknown, for the whole bounded wait."""


class LeaseLocks:
    def __init__(self, redis: "aioredis.Redis", *, poll_seconds: float = POLL_SECONDS) -> None:
        self._redis = redis
        self._poll = poll_seconds
        self._release = redis.register_script(DEL_IF_EQUAL)

    @guarded
    async def acquire(self, key: str, *, seconds: float) -> str | None:
        """The owner token, or None when someone else holds the lock."""
        owner = secrets.token_hex(16)
        taken = await self._redis.set(key, owner, nx=True, px=max(1, int(seconds * 1000)))
        return owner if taken else None

    @guarded
    async def release(self, key: str, owner: str) -> None:
        await self._release(keys=[key], args=[owner])

    @guarded
    async def held(self, key: str) -> bool:
        return bool(await self._redis.exists(key))

    async def run_once(
        self,
        key: str,
        *,
        lease: float,
        work: Callable[[], Awaitable[T]],
        settled: Callable[[], Awaitable[T | None]],
    ) -> T:
        """Run `work` holding the lock. While another holder has it, poll `settled` (that
        holder's outcome, or None while there is none yet) and try the lock again; a dead
        holder's lease lapses within the wait, which is bounded by the lease plus a poll."""
        for _ in range(math.ceil(lease / self._poll) + 2):
            owner = await self.acquire(key, seconds=lease)
            if owner is not None:
                try:
                    return await work()
                finally:
                    await self.release(key, owner)
            await asyncio.sleep(self._poll)
            outcome = await settled()
            if outcome is not None:
                return outcome
        raise StillHeld(key)
