"""The sale-opportunity rule: every signed-in session makes sure the customer has one open
kasko sale opportunity in InsurUp's CRM, checked once and created only when none is open.

The check-then-create runs under a Redis lease lock per customer, so concurrent requests on
any replica (and two sessions of one customer) create at most one case. The outcome is kept
in the session. A failure never fails the sign-in; the next call tries again, and vehicle and
quote calls wait for it (`ensure`).
"""

import asyncio
import logging
import time
from collections.abc import Callable

from app.errors import GatewayError, SessionExpired, UpstreamError
from app.insurup.client import InsurUpClient
from app.insurup.models import CaseItem
from app.ops.metrics import CASES
from app.session.tokens import TokenKeeper
from app.store.keys import Keys
from app.store.sessions import CaseOutcome, SessionRecord, SessionStore

log = logging.getLogger("app.session.case")

# DELAYED is a postponed open case; counting it as open avoids a duplicate lead.
_ACTIVE_STATUSES = frozenset({"OPEN", "DELAYED"})
_POLL_SECONDS = 0.05


def is_open_kasko_sale(item: CaseItem) -> bool:
    """Decided on the item itself: the query's filter and `totalCount` are not trusted."""
    return (
        item.type == "SALE_OPPORTUNITY"
        and item.product_branch == "KASKO"
        and item.status in _ACTIVE_STATUSES
    )


class CaseKeeper:
    def __init__(
        self,
        *,
        store: SessionStore,
        client: InsurUpClient,
        tokens: TokenKeeper,
        keys: Keys,
        channels: dict[str, str],
        call_timeout: float,
    ) -> None:
        self._store = store
        self._client = client
        self._tokens = tokens
        self._keys = keys
        self._channels = channels
        # The lease must outlive the slowest honest step (a read with its retries, a refresh,
        # the create): if it lapsed under a live holder, a second replica could create again.
        self._lease = call_timeout * 6 + 5
        # Vehicle and quote calls wait this long for the step before answering 503.
        self._gate_wait = call_timeout * 3
        self._inflight: dict[str, asyncio.Task[CaseOutcome]] = {}

    async def ensure(self, record: SessionRecord) -> CaseOutcome:
        """The case outcome, doing the step now if needed; 503 while it cannot be done."""
        if record.case is not None:
            return record.case
        try:
            outcome = await asyncio.wait_for(asyncio.shield(self.start(record)), self._gate_wait)
        except SessionExpired:
            raise
        except (GatewayError, TimeoutError) as exc:
            raise UpstreamError(
                "The sale could not be prepared at the insurance platform; try again shortly",
                status=503,
                retry_after=5,
            ) from exc
        record.case = outcome
        return outcome

    def start(self, record: SessionRecord) -> "asyncio.Task[CaseOutcome]":
        """Start (or join) the step in the background; callers may wait or walk away."""
        task = self._inflight.get(record.handle)
        if task is None:
            task = asyncio.create_task(self._run(record))
            self._inflight[record.handle] = task
            task.add_done_callback(self._finished(record.handle))
        return task

    def _finished(self, handle: str) -> Callable[["asyncio.Task[CaseOutcome]"], None]:
        def done(task: "asyncio.Task[CaseOutcome]") -> None:
            self._inflight.pop(handle, None)
            if not task.cancelled() and task.exception() is not None:
                # Retrieved here so a walked-away caller leaves no "never retrieved" noise.
                log.warning("case step failed", extra={"error": type(task.exception()).__name__})

        return done

    async def aclose(self) -> None:
        for task in list(self._inflight.values()):
            task.cancel()
        await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _run(self, record: SessionRecord) -> CaseOutcome:
        customer_id = record.meta.customer_id
        if customer_id is None:
            raise UpstreamError("The customer is not known yet")
        lock = self._keys.case_lock(customer_id)
        deadline = time.monotonic() + self._lease + 5
        while True:
            owner = await self._store.try_lock(lock, seconds=self._lease)
            if owner is not None:
                try:
                    done = await self._store.load_case(record.handle)
                    if done is not None:
                        return done
                    outcome = await self._check_then_create(record, customer_id)
                    await self._store.save_case(record, outcome)
                    return outcome
                except Exception:
                    CASES.labels("failed").inc()
                    raise
                finally:
                    await self._store.unlock(lock, owner)
            await asyncio.sleep(_POLL_SECONDS)
            done = await self._store.load_case(record.handle)
            if done is not None:
                return done
            if time.monotonic() > deadline:
                raise UpstreamError("The sale-opportunity step is still running elsewhere")

    async def _check_then_create(self, record: SessionRecord, customer_id: str) -> CaseOutcome:
        items = await self._tokens.call(
            record,
            lambda token: self._client.kasko_sale_cases(token=token, customer_id=customer_id),
        )
        existing = next((item for item in items if is_open_kasko_sale(item)), None)
        if existing is not None:
            CASES.labels("found").inc()
            return CaseOutcome(case_id=existing.id, created=False)
        channel = self._channels[record.meta.transport]
        case_id = await self._tokens.call(
            record,
            lambda token: self._client.create_sale_opportunity(
                token=token, customer_id=customer_id, channel=channel
            ),
        )
        CASES.labels("created").inc()
        log.info("sale opportunity created", extra={"channel": channel})
        return CaseOutcome(case_id=case_id, created=True)
