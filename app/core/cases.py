"""The sale-opportunity rule: every signed-in session makes sure the customer has one open
kasko sale opportunity in InsurUp's CRM, checked once and created only when none is open.

The check-then-create runs under a lease lock per customer, so concurrent requests on any
replica (and two sessions of one customer) create at most one case. The outcome is kept in
the session. A failure never fails the sign-in; the next call tries again, and vehicle and
quote calls wait for it (`ensure`).
"""

import asyncio
import logging
from collections.abc import Callable

from app.core.tokens import CustomerClients
from app.errors import GatewayError, SessionExpired, UpstreamError
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.sessions import CaseOutcome, SessionRecord, SessionStore, Transport
from app.telemetry.metrics import CASES
from app.vocabulary import Channel

log = logging.getLogger("app.core.cases")


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
        # Vehicle and quote calls wait this long for the step before answering 503.
        self._gate_wait = leases.call_timeout * 3
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

    def retry_if_missing(self, record: SessionRecord) -> None:
        """On any signed-in call: retry a case step that has not succeeded yet, in the back."""
        if record.info.stage == "authenticated" and record.case is None:
            self.start(record)

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
            return await self._locks.run_once(
                self._keys.case_lock(customer_id),
                lease=self._lease,
                work=check_then_create,
                settled=lambda: self._store.load_case(record.handle),
            )
        except StillHeld as exc:
            raise UpstreamError("The sale-opportunity step is still running elsewhere") from exc

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
