"""The money path: start a payment, take the provider's callback, and trust only InsurUp.

A callback is a hint that something happened, never proof: the outcome is what InsurUp says
about the product afterwards (purchased, with a policy id), recorded once by compare-and-set.
Card data exists only in memory for the one InsurUp call.
"""

import logging
import secrets
import uuid
from dataclasses import dataclass

from app.clock import Clock
from app.core.tokens import CustomerClients
from app.errors import (
    FieldError,
    GatewayError,
    NotFound,
    PaymentInProgress,
    PaymentMethodNotSupported,
    ProductNotPurchasable,
    ValidationFailed,
)
from app.insurup.proposals import ProductWire
from app.payments.schemas import PaymentStarted, PurchaseCreate
from app.quotes.service import QuoteService
from app.store.idempotency import IdempotencyStore, fingerprint
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.payments import Payment, PaymentStore
from app.store.sessions import SessionRecord, SessionStore
from app.telemetry.metrics import PAYMENTS
from app.vocabulary import CARD_METHODS, PaymentMethod

log = logging.getLogger("app.payments")


@dataclass(frozen=True, slots=True)
class PaymentTimings:
    grace_seconds: float  # a product still unpaid this long after the callback has failed
    abandon_seconds: float  # no callback at all this long after the start: abandoned
    verify_every_seconds: float  # at most one InsurUp check per payment per interval


class PaymentService:
    def __init__(
        self,
        *,
        insurup: CustomerClients,
        payments: PaymentStore,
        sessions: SessionStore,
        idempotency: IdempotencyStore,
        quotes: QuoteService,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        clock: Clock,
        callback_base: str,
        timings: PaymentTimings,
    ) -> None:
        self._insurup = insurup
        self._payments = payments
        self._sessions = sessions
        self._idempotency = idempotency
        self._quotes = quotes
        self._keys = keys
        self._locks = locks
        self._clock = clock
        self._callback_base = callback_base.rstrip("/")
        self._timings = timings
        # Longer than any start can take (a product read, maybe a refresh, the purchase call):
        # an attempt older than this without a redirect died with its replica.
        self._start_lease = leases.lease(3)
        # A check: a session's refresh, then the product read.
        self._check_lease = leases.lease(2)

    # -- starting -------------------------------------------------------------------------------

    async def purchase(
        self,
        record: SessionRecord,
        *,
        quote_id: str,
        product_id: str,
        form: PurchaseCreate,
        idempotency_key: str,
    ) -> PaymentStarted:
        if form.method is not None:
            _check_card(form.method, form)
        return await self._idempotency.once(
            owner=record.customer_id,
            scope="purchase",
            key=idempotency_key,
            fingerprint=fingerprint(
                {"quoteId": quote_id, "productId": product_id, **form.fingerprint_view()}
            ),
            lease_seconds=self._start_lease,
            run=lambda: self._start(record, quote_id, product_id, form),
            answer=PaymentStarted,
        )

    async def _start(
        self, record: SessionRecord, quote_id: str, product_id: str, form: PurchaseCreate
    ) -> PaymentStarted:
        product = await self._quotes.product(record, quote_id, product_id)
        method = self._checked_method(product, form)
        now = self._clock.now()
        payment = Payment(
            payment_id=uuid.uuid4().hex,
            customer_id=record.customer_id,
            session_handle=record.handle,
            quote_id=quote_id,
            product_id=product_id,
            installment_number=form.installment_number,
            method=method,
            created_at=now,
            updated_at=now,
        )
        await self._claim(payment)
        callback_token = secrets.token_urlsafe(32)
        await self._payments.create(payment, callback_token=callback_token)
        try:
            redirect = await self._insurup.of(record).purchase_async(
                proposal_id=quote_id,
                product_id=product_id,
                method=method,
                installment=form.installment_number,
                callback_url=f"{self._callback_base}/api/v1/payments/callback/{callback_token}",
                card=form.card.card() if form.card else None,
            )
        except GatewayError as exc:
            # Nothing to redirect to, so nothing the customer can finish: a failed start.
            await self._payments.update_pending(
                payment, status="failed", failure_reason="not_started"
            )
            await self._payments.release_product(payment)
            PAYMENTS.labels("not_started").inc()
            log.warning("payment not started", extra={"code": exc.code})
            raise
        await self._payments.update_pending(payment, redirect_issued=True)
        PAYMENTS.labels("started").inc()
        log.info("payment started", extra={"paymentId": payment.payment_id, "method": method})
        return PaymentStarted(payment_id=payment.payment_id, redirect_url=redirect)

    def _checked_method(self, product: ProductWire, form: PurchaseCreate) -> PaymentMethod:
        offer = self._quotes.offer(product)
        if not offer.purchasable:
            raise ProductNotPurchasable()
        method = form.method or offer.payment_methods[0]
        if method not in offer.payment_methods:
            raise PaymentMethodNotSupported(
                f"This product takes: {', '.join(offer.payment_methods)}"
            )
        _check_card(method, form)
        if form.installment_number not in {p.installment_number for p in offer.premiums}:
            raise ValidationFailed(
                errors=[FieldError("installmentNumber", "is not a plan this product offers")]
            )
        return method

    async def _claim(self, payment: Payment) -> None:
        seconds = int(self._timings.abandon_seconds + self._timings.grace_seconds)
        for _ in range(2):
            holder = await self._payments.claim_product(payment, seconds=seconds)
            if holder is None:
                return
            other = await self._payments.get(holder)
            if other is not None and other.status == "pending":
                young = self._clock.now() - other.created_at < self._start_lease
                if other.redirect_issued or young:
                    raise PaymentInProgress()
                # Its start never finished (the replica died mid-call) and InsurUp, just read,
                # still sells the product: that attempt reached nobody's browser. Retire it.
                await self._payments.update_pending(
                    other, status="failed", failure_reason="not_started"
                )
            # The claim outlived its payment (finished, expired or retired): take it over.
            if other is not None:
                await self._payments.release_product(other)
        raise PaymentInProgress()

    # -- the callback and the status --------------------------------------------------------------

    async def callback(self, callback_token: str) -> Payment:
        """Whatever the request claims, the outcome comes from InsurUp."""
        payment = await self._payments.by_callback(callback_token)
        if payment is None:
            raise NotFound("Unknown payment")
        if payment.status != "pending":
            return payment
        payment = await self._payments.note_callback(payment)
        return await self._verify(payment, wait=True)

    async def status(self, record: SessionRecord, payment_id: str) -> Payment:
        payment = await self._payments.get(payment_id)
        if payment is None or payment.customer_id != record.info.customer_id:
            raise NotFound("Unknown payment")
        if payment.status != "pending":
            return payment
        return await self._verify(payment, wait=False)

    async def _verify(self, payment: Payment, *, wait: bool) -> Payment:
        """Ask InsurUp, at most once per interval and by one replica at a time; a caller that
        finds a check running waits for its result (`wait`) or answers with what is stored."""
        payment_id = payment.payment_id
        every = self._timings.verify_every_seconds
        if await self._payments.checked_recently(payment_id, every_seconds=every):
            return await self._payments.get(payment_id) or payment
        lock = self._keys.payment_check_lock(payment_id)

        async def check() -> Payment:
            if await self._payments.checked_recently(payment_id, every_seconds=every):
                return await self._payments.get(payment_id) or payment  # checked meanwhile
            try:
                return await self._check_with_insurup(payment)
            finally:
                await self._payments.mark_checked(payment_id, every_seconds=every)

        async def checked_elsewhere() -> Payment | None:
            if wait and await self._locks.held(lock):
                return None
            return await self._payments.get(payment_id) or payment

        try:
            return await self._locks.run_once(
                lock, lease=self._check_lease, work=check, settled=checked_elsewhere
            )
        except StillHeld:
            return await self._payments.get(payment_id) or payment

    async def _check_with_insurup(self, payment: Payment) -> Payment:
        record = await self._session_for(payment)
        if record is None:
            log.warning("payment cannot be verified: no live session of its customer")
            return payment
        try:
            product = await self._quotes.product(record, payment.quote_id, payment.product_id)
        except GatewayError as exc:
            log.warning("payment verification failed", extra={"code": exc.code})
            return payment
        changes = self._outcome(payment, product)
        if changes is None:
            return payment
        if await self._payments.update_pending(payment, **changes):
            PAYMENTS.labels(str(changes["status"])).inc()
            log.info(
                "payment settled",
                extra={"paymentId": payment.payment_id, "status": changes["status"]},
            )
            if changes["status"] == "failed":
                await self._payments.release_product(payment)
        return await self._payments.get(payment.payment_id) or payment

    def _outcome(self, payment: Payment, product: ProductWire) -> dict[str, object] | None:
        """The product as InsurUp has it -> the payment's next state (None: still pending)."""
        if product.state == "purchased" and product.policy_id:
            return {"status": "succeeded", "policy_id": product.policy_id}
        if product.state == "failed":
            return {"status": "failed", "failure_reason": "insurer_failed"}
        if product.state == "active":
            now = self._clock.now()
            called_back = payment.callback_at
            if called_back is not None and now - called_back > self._timings.grace_seconds:
                return {"status": "failed", "failure_reason": "payment_not_completed"}
            if called_back is None and now - payment.created_at > self._timings.abandon_seconds:
                return {"status": "failed", "failure_reason": "abandoned"}
        return None

    async def _session_for(self, payment: Payment) -> SessionRecord | None:
        """The session that started the payment, or any live one of the same customer: the
        customer's own session may have lapsed while they were on the bank's page."""
        handles = [payment.session_handle]
        handles += sorted(
            await self._sessions.customer_session_handles(payment.customer_id)
            - {payment.session_handle}
        )
        for handle in handles:
            record = await self._sessions.load(handle)
            if (
                record is not None
                and record.info.stage == "authenticated"
                and record.info.customer_id == payment.customer_id
            ):
                return record
        return None


def _check_card(method: PaymentMethod, form: PurchaseCreate) -> None:
    if method in CARD_METHODS and form.card is None:
        raise ValidationFailed(errors=[FieldError("card", "is required for 3-D Secure")])
    if method not in CARD_METHODS and form.card is not None:
        raise ValidationFailed(
            errors=[FieldError("card", "must be left out: the insurer's own page asks for it")]
        )
