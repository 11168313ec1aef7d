"""The sale-opportunity rule: every signed-in session makes sure the customer has one open
kasko sale opportunity in InsurUp's CRM, checked once and created only when none is open.

The check-then-create runs under a lease lock per customer, so concurrent requests on any
replica (and two sessions of one customer) create at most one case. The outcome is kept in
the session. A failure never fails the sale, as on InsurUp's own site: vehicle, quote and
purchase calls wait a bounded time for the step (`ensure`), then go on without it while it is
retried in the background and on every later call; a sale made without a case is counted
and logged so the agency can follow it up.
"""

import asyncio
import logging
from collections.abc import Callable

from app.core.tokens import CustomerClients
from app.errors import (
    GatewayError,
    SessionExpired,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.sessions import CaseOutcome, SessionRecord, SessionStore, Transport
from app.telemetry.metrics import CASES
from app.vocabulary import Channel

log = logging.getLogger("app.core.cases")

# An attempt InsurUp failed is tried again in the background after these pauses; after the
# last, any later signed-in call starts it again.
_RETRY_PAUSES = (1.0, 4.0)


class CaseKeeper:
    def __init__(
        self,
        *,
        store: SessionStore,
        insurup: CustomerClients,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        channels: dict[Transport, Channel],
    ) -> None:
        self._store = store
        self._insurup = insurup
        self._keys = keys
        self._locks = locks
        self._channels = channels
        # The lease must outlive the slowest honest step (a read with its retries, a refresh,
        # the create): if it lapsed under a live holder, a second replica could create again.
        self._lease = leases.lease(6)
        # Vehicle, quote and purchase calls wait this long for the step, then go on.
        self._gate_wait = leases.call_timeout * 3
        self._inflight: dict[str, asyncio.Task[CaseOutcome]] = {}
        self._retries: dict[str, int] = {}  # background retries made, per session
        self._waiting: set[asyncio.Task[None]] = set()

    async def ensure(self, record: SessionRecord) -> CaseOutcome | None:
        """The case outcome, doing the step now if needed; None when it could not be done
        in the bounded wait (the step goes on in the background)."""
        if record.case is not None:
            return record.case
        try:
            outcome = await asyncio.wait_for(asyncio.shield(self.start(record)), self._gate_wait)
        except SessionExpired:
            raise
        except (GatewayError, TimeoutError) as exc:
            CASES.labels("deferred").inc()
            log.warning("sale goes on without its case", extra={"error": type(exc).__name__})
            return None
        record.case = outcome
        return outcome

    @staticmethod
    def note_sale(record: SessionRecord) -> None:
        """A payment started: if the case step never succeeded, say so (counted, logged)."""
        if record.case is None:
            CASES.labels("sold_without_case").inc()
            log.warning("payment started without a sale opportunity")

    def retry_if_missing(self, record: SessionRecord) -> None:
        """On any signed-in call: retry a case step that has not succeeded yet, in the back."""
        if record.info.stage == "authenticated" and record.case is None:
            self.start(record)

    def start(self, record: SessionRecord) -> "asyncio.Task[CaseOutcome]":
        """Start (or join) an attempt at the step; callers may wait or walk away. An attempt
        InsurUp failed is tried again in the background after a pause or two."""
        task = self._inflight.get(record.handle)
        if task is None:
            task = asyncio.create_task(self._attempt(record))
            self._inflight[record.handle] = task
            task.add_done_callback(self._finished(record))
        return task

    def _finished(self, record: SessionRecord) -> Callable[["asyncio.Task[CaseOutcome]"], None]:
        def done(task: "asyncio.Task[CaseOutcome]") -> None:
            self._inflight.pop(record.handle, None)
            if task.cancelled() or task.exception() is None:
                self._retries.pop(record.handle, None)
                return
            # Retrieved here so a walked-away caller leaves no "never retrieved" noise.
            error = task.exception()
            log.warning("case step failed", extra={"error": type(error).__name__})
            if isinstance(error, UpstreamError | UpstreamTimeout | UpstreamUnavailable):
                self._retry_later(record)

        return done

    def _retry_later(self, record: SessionRecord) -> None:
        done = self._retries.get(record.handle, 0)
        if done >= len(_RETRY_PAUSES):
            self._retries.pop(record.handle, None)  # later signed-in calls start it again
            return
        self._retries[record.handle] = done + 1

        async def again() -> None:
            await asyncio.sleep(_RETRY_PAUSES[done])
            if record.case is None:
                self.start(record)

        retry = asyncio.create_task(again())
        self._waiting.add(retry)
        retry.add_done_callback(self._waiting.discard)

    async def aclose(self) -> None:
        tasks = [*self._inflight.values(), *self._waiting]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt(self, record: SessionRecord) -> CaseOutcome:
        customer_id = record.info.customer_id
        if customer_id is None:
            raise UpstreamError("The customer is not known yet")

        async def check_then_create() -> CaseOutcome:
            done = await self._store.load_case(record.handle)
            if done is not None:
                return done
            try:
                outcome = await self._check_then_create(record, customer_id)
            except Exception:
                CASES.labels("failed").inc()
                raise
            await self._store.save_case(record, outcome)
            return outcome

        try:
            outcome = await self._locks.run_once(
                self._keys.case_lock(customer_id),
                lease=self._lease,
                work=check_then_create,
                settled=lambda: self._store.load_case(record.handle),
            )
        except StillHeld as exc:
            raise UpstreamError("The sale-opportunity step is still running elsewhere") from exc
        record.case = outcome
        return outcome

    async def _check_then_create(self, record: SessionRecord, customer_id: str) -> CaseOutcome:
        insurup = self._insurup.of(record)
        items = await insurup.kasko_sale_cases(customer_id=customer_id)
        existing = next((item for item in items if item.is_open_kasko_sale), None)
        if existing is not None:
            CASES.labels("found").inc()
            return CaseOutcome(case_id=existing.id, created=False)
        channel = self._channels[record.info.transport]
        case_id = await insurup.create_sale_opportunity(customer_id=customer_id, channel=channel)
        CASES.labels("created").inc()
        log.info("sale opportunity created", extra={"channel": channel})
        return CaseOutcome(case_id=case_id, created=True)
