"""InsurUp as the agency sees it, through a service account: what verifies a payment when no
customer session is left (webhook confirmations, the reconciler).

The token is fetched once across replicas (a lease lock; the others wait for it), kept
sealed in Redis, renewed a margin before it lapses and after InsurUp refuses it.
"""

import asyncio
import logging

import httpx
from pydantic import SecretStr

from app.clock import Clock
from app.errors import UpstreamTimeout
from app.insurup.service_account import client_credentials_token
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.service_tokens import ServiceTokenStore

log = logging.getLogger("app.core.service_account")

# Renew this long before InsurUp's expiry, so a token never lapses mid-call.
RENEW_MARGIN_SECONDS = 60.0


class ServiceAccount:
    """A `Credential` for InsurUp calls made as the agency."""

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        auth_url: str,
        client_id: str,
        client_secret: SecretStr,
        store: ServiceTokenStore,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        clock: Clock,
    ) -> None:
        self._http = http
        self._auth_url = auth_url
        self._client_id = client_id
        self._secret = client_secret
        self._store = store
        self._keys = keys
        self._locks = locks
        self._lease = leases.lease(1)
        self._clock = clock
        self._current: tuple[str, float] | None = None
        self._inflight: asyncio.Future[str] | None = None

    def _fresh(self, held: tuple[str, float] | None) -> str | None:
        if held is None or held[1] - self._clock.now() <= RENEW_MARGIN_SECONDS:
            return None
        return held[0]

    async def token(self) -> str:
        local = self._fresh(self._current)
        if local is not None:
            return local
        stored = await self._store.get()
        if self._fresh(stored) is not None and stored is not None:
            self._current = stored
            return stored[0]
        return await self._renew(stale=stored[0] if stored else None)

    async def renewed(self) -> str:
        stale = self._current[0] if self._current else None
        self._current = None
        return await self._renew(stale=stale)

    async def _renew(self, *, stale: str | None) -> str:
        # One renewal per process at a time; across replicas, one per lease.
        if self._inflight is None or self._inflight.done():
            self._inflight = asyncio.ensure_future(self._renew_across_replicas(stale))
        return await asyncio.shield(self._inflight)

    async def _renew_across_replicas(self, stale: str | None) -> str:
        async def newer() -> str | None:
            stored = await self._store.get()
            token = self._fresh(stored)
            if token is None or token == stale:
                return None
            self._current = stored
            return token

        async def fetch() -> str:
            already = await newer()
            if already is not None:
                return already
            granted = await client_credentials_token(
                self._http,
                auth_url=self._auth_url,
                client_id=self._client_id,
                client_secret=self._secret.get_secret_value(),
            )
            expires_at = self._clock.now() + granted.expires_in
            await self._store.put(
                granted.access_token,
                expires_at=expires_at,
                keep_seconds=max(1.0, granted.expires_in - RENEW_MARGIN_SECONDS),
            )
            self._current = (granted.access_token, expires_at)
            log.info("service account token renewed")
            return granted.access_token

        try:
            return await self._locks.run_once(
                self._keys.service_token_lock(), lease=self._lease, work=fetch, settled=newer
            )
        except StillHeld as exc:
            raise UpstreamTimeout("The service account could not be signed in in time") from exc
