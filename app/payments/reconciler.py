"""Pending payments end right even when nobody is online: every replica runs this loop, and
each pending payment is checked by one replica at a time (the payment's check lock), with a
back-off that grows with its age, until it settles or is declared abandoned."""

import asyncio
import logging

from app.clock import Clock
from app.errors import GatewayError
from app.payments.service import PaymentService
from app.store.payments import PaymentStore
from app.telemetry.metrics import PENDING_PAYMENTS

log = logging.getLogger("app.payments.reconciler")

# At most this many payments per look; the oldest first (they are the ones that matter).
BATCH = 200
# Payments checked at once by one replica (each check may be an InsurUp call).
CONCURRENCY = 8
_AGES = (("lt_1m", 60.0), ("1m_10m", 600.0), ("10m_30m", 1800.0), ("gt_30m", float("inf")))


class Reconciler:
    def __init__(
        self, *, payments: PaymentService, store: PaymentStore, clock: Clock, interval: float
    ) -> None:
        self._payments = payments
        self._store = store
        self._clock = clock
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except GatewayError as exc:  # Redis or InsurUp unwell: the next look tries again
                log.warning("reconciliation failed", extra={"code": exc.code})
            await asyncio.sleep(self._interval)

    async def run_once(self) -> int:
        """Look at the pending payments once; how many there were."""
        pending = await self._store.pending(limit=BATCH)
        self._report_ages([started for _, started in pending])
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(payment_id: str) -> None:
            async with gate:
                try:
                    await self._payments.reconcile(payment_id)
                except GatewayError as exc:
                    log.warning("payment not reconciled", extra={"code": exc.code})

        await asyncio.gather(*(one(payment_id) for payment_id, _ in pending))
        return len(pending)

    def _report_ages(self, started: list[float]) -> None:
        now = self._clock.now()
        counts = dict.fromkeys((name for name, _ in _AGES), 0)
        for at in started:
            age = now - at
            name = next(name for name, bound in _AGES if age < bound)
            counts[name] += 1
        for name, count in counts.items():
            PENDING_PAYMENTS.labels(name).set(count)
