"""Whether this replica can serve: Redis must answer; InsurUp's reachability is reported."""

from dataclasses import dataclass

from app.errors import StoreUnavailable
from app.insurup.client import InsurUpClient
from app.store.sessions import SessionStore


@dataclass(frozen=True, slots=True)
class Probe:
    redis: bool
    insurup: bool | None  # None: not asked


class ReadinessProbe:
    def __init__(self, *, store: SessionStore, insurup: InsurUpClient) -> None:
        self._store = store
        self._insurup = insurup

    async def probe(self, *, insurup: bool = True) -> Probe:
        """Redis always; InsurUp only when asked (public probes must not cost InsurUp calls)."""
        try:
            redis_ok = await self._store.ping()
        except StoreUnavailable:
            redis_ok = False
        return Probe(redis=redis_ok, insurup=await self._insurup.reachable() if insurup else None)
