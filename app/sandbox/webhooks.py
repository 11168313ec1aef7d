"""Agency webhooks (reference 9.2): signed JSON POSTs to `config.webhook_url`.

`WebhookDispatcher.emit(event, payload)` is called from the (synchronous) lifecycle code at
the moment a transition is applied and returns at once: the delivery runs as a background
task on the running event loop, so it never blocks the request that triggered it.

A delivery: wait `webhook_delay_seconds`, then POST the body; on a non-2xx answer or a
transport error retry, up to `MAX_ATTEMPTS` attempts with `BACKOFF_SECONDS` between them
(through the config's `sleep`); then send the same body `webhook_duplicates` more times with
the same `x-webhook-delivery` (each copy retried the same way). Every attempt is appended to
`SandboxState.webhook_deliveries`. Nothing raised by the target reaches the caller.

Headers: `x-webhook-event`, `x-webhook-id` (`SUBSCRIPTION_ID`), `x-webhook-delivery` (a
uuid4 per delivery), `x-webhook-signature` (lowercase hex HMAC-SHA256 of the exact body
with `webhook_secret`; absent without a secret), `Content-Type: application/json`.
"""

import asyncio
import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from .config import SandboxConfig, WebhookEvent

log = logging.getLogger(__name__)

SUBSCRIPTION_ID = "665f00000000000000000e01"
"""The `x-webhook-id` of every delivery: the agency's (only) webhook subscription."""
MAX_ATTEMPTS = 3
"""Attempts per copy of a delivery (DOC-WH: up to 3)."""
BACKOFF_SECONDS = (1.0, 2.0)
"""Waits before the 2nd and the 3rd attempt (exponential)."""
ATTEMPT_TIMEOUT_SECONDS = 5.0
"""httpx timeout of one attempt (InsurUp allows 30 s; a sandbox keeps it short)."""


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of a delivery, as recorded in `SandboxState.webhook_deliveries`."""

    event: str
    delivery_id: str
    copy: int
    """0 for the delivery itself, 1.. for the `webhook_duplicates` copies."""
    attempt: int
    """1..MAX_ATTEMPTS within the copy."""
    status: int | None
    """The target's HTTP status, None when the request failed."""
    error: str | None
    """The transport error (`ConnectError: ...`), None when an answer came back."""
    body: bytes
    """The exact bytes that were signed and sent."""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Borrowed(httpx.AsyncBaseTransport):
    """An injected transport the per-delivery client must not close."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """The transport belongs to whoever configured it."""


def sign(secret: str, body: bytes) -> str:
    """`x-webhook-signature`: lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    def __init__(self, config: SandboxConfig, deliveries: list[WebhookAttempt]) -> None:
        self.config = config
        self.deliveries = deliveries
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return self.config.webhook_url is not None

    def emit(self, event: WebhookEvent, payload: dict[str, Any]) -> str | None:
        """Queue a delivery; its delivery id, or None when webhooks are off for `event`."""
        if not self.enabled or event.value not in self.config.webhook_events:
            return None
        body = json.dumps(
            {"$event": event.value, **payload}, ensure_ascii=False, separators=(",", ":")
        ).encode()
        delivery_id = str(uuid.uuid4())
        self._spawn(self._deliver(event.value, delivery_id, body))
        return delivery_id

    def wake_after(self, delay: float, callback: Callable[[], None]) -> None:
        """With webhooks on: run `callback` after `delay` seconds (through `sleep`), so that
        time-driven transitions (expiry, settling) are applied, and their webhooks sent,
        even when nobody reads."""
        if not self.enabled:
            return

        async def wake() -> None:
            await self.config.sleep(max(0.0, delay))
            try:
                callback()
            except Exception:
                log.exception("sandbox wake-up failed")

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # outside the event loop: the next read applies it instead
            return
        timer = loop.create_task(wake())
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def drain(self, *, wake_ups: bool = False) -> None:
        """Wait until every queued delivery (retries and duplicates included) is done;
        `wake_ups=True` waits for the pending wake-ups first (only sensible with an injected
        `sleep` that does not really wait)."""
        while self._tasks or (wake_ups and self._timers):
            pending = list(self._tasks) + (list(self._timers) if wake_ups else [])
            await asyncio.gather(*pending, return_exceptions=True)

    async def aclose(self) -> None:
        """Cancel pending wake-ups and wait for the deliveries (tests, shutdown)."""
        for timer in list(self._timers):
            timer.cancel()
        await asyncio.gather(*list(self._timers), return_exceptions=True)
        await self.drain()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # called outside the event loop (a test poking the state)
            threading.Thread(target=asyncio.run, args=(coro,), daemon=True).start()
            return
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: str, delivery_id: str, body: bytes) -> None:
        config = self.config
        assert config.webhook_url is not None
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "InsurUp-Webhooks/sandbox",
            "x-webhook-event": event,
            "x-webhook-id": SUBSCRIPTION_ID,
            "x-webhook-delivery": delivery_id,
        }
        if config.webhook_secret is not None:
            headers["x-webhook-signature"] = sign(config.webhook_secret, body)
        transport = (
            None if config.webhook_transport is None else _Borrowed(config.webhook_transport)
        )
        try:
            if config.webhook_delay_seconds > 0:
                await config.sleep(config.webhook_delay_seconds)
            async with httpx.AsyncClient(
                transport=transport, timeout=ATTEMPT_TIMEOUT_SECONDS, trust_env=False
            ) as client:
                for copy in range(1 + config.webhook_duplicates):
                    await self._send(client, config.webhook_url, headers, event, copy, body)
        except Exception:  # never let a delivery crash anything
            log.exception("sandbox webhook delivery %s failed", delivery_id)

    async def _send(
        self,
        client: httpx.AsyncClient,
        url: str,
        headers: dict[str, str],
        event: str,
        copy: int,
        body: bytes,
    ) -> None:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            status: int | None = None
            error: str | None = None
            try:
                response = await client.post(url, content=body, headers=headers)
                status = response.status_code
            except Exception as exc:  # the target is down, slow or broken
                error = f"{type(exc).__name__}: {exc}"
            record = WebhookAttempt(
                event, headers["x-webhook-delivery"], copy, attempt, status, error, body
            )
            self.deliveries.append(record)
            if record.ok:
                return
            if attempt < MAX_ATTEMPTS:
                await self.config.sleep(BACKOFF_SECONDS[attempt - 1])
