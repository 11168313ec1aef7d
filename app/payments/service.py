"""The money path: start a payment, take the provider's callback, and trust only InsurUp.

A callback is a hint that something happened, never proof: the outcome is what InsurUp says
about the product afterwards (`PURCHASED` with a policy id), recorded once by
compare-and-set. Card data exists only in memory for the one InsurUp call.
"""

import asyncio
import logging
import secrets
import time
import uuid
from dataclasses import dataclass

from app.errors import (
    FieldError,
    GatewayError,
    NotFound,
    PaymentInProgress,
    PaymentMethodNotSupported,
    ProductNotPurchasable,
    ValidationFailed,
)
from app.insurup.client import InsurUpClient
from app.insurup.policies import purchase_body
from app.insurup.proposals import ProductWire
from app.ops.metrics import PAYMENTS
from app.payments.schemas import CARD_METHODS, PaymentStarted, PurchaseCreate
from app.quotes.service import QuoteService
from app.session.tokens import TokenKeeper
from app.store.idempotency import IdempotencyStore, fingerprint
from app.store.payments import Payment, PaymentStore
from app.store.sessions import SessionRecord, SessionStore

log = logging.getLogger("app.payments")

_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class PaymentTimings:
    grace_seconds: float  # a product still ACTIVE this long after the callback has failed
    abandon_seconds: float  # no callback at all this long after the start: abandoned
    verify_every_seconds: float  # at most one InsurUp check per payment per interval
    call_timeout: float


class PaymentService:
    def __init__(
        self,
        *,
        client: InsurUpClient,
        tokens: TokenKeeper,
        payments: PaymentStore,
        sessions: SessionStore,
        idempotency: IdempotencyStore,
        quotes: QuoteService,
        callback_base: str,
        timings: PaymentTimings,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._payments = payments
        self._sessions = sessions
        self._idempotency = idempotency
        self._quotes = quotes
        self._callback_base = callback_base.rstrip("/")
        self._t = timings
        # Longer than any start can take (a product read, maybe a refresh, the purchase call):
        # an attempt older than this without a redirect died with its replica.
        self._start_lease = int(timings.call_timeout * 3 + 5)

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
        customer_id = record.customer_id
        scope = {"owner": customer_id, "scope": "purchase", "key": idempotency_key}
        print_ = fingerprint(
            {"quoteId": quote_id, "productId": product_id, **form.fingerprint_view()}
        )
        replay = await self._idempotency.begin(
            **scope, fingerprint=print_, lease_seconds=int(self._t.call_timeout * 3 + 5)
        )
        if replay is not None:
            return PaymentStarted.model_validate(replay.body)
        try:
            started = await self._start(record, quote_id, product_id, form)
        except BaseException:
            await self._idempotency.abandon(**scope)
            raise
        await self._idempotency.complete(
            **scope, fingerprint=print_, status=201, body=started.model_dump(by_alias=True)
        )
        return started

    async def _start(
        self, record: SessionRecord, quote_id: str, product_id: str, form: PurchaseCreate
    ) -> PaymentStarted:
        product = await self._quotes.product(record, quote_id, product_id)
        method = self._checked_method(product, form)
        payment = Payment(
            paymentId=uuid.uuid4().hex,
            customerId=record.customer_id,
            sessionHandle=record.handle,
            quoteId=quote_id,
            productId=product_id,
            installmentNumber=form.installment_number,
            method=method,
        )
        await self._claim(payment)
        callback_token = secrets.token_urlsafe(32)
        await self._payments.create(payment, callback_token=callback_token)
        body = purchase_body(
            method=method,
            proposal_id=quote_id,
            product_id=product_id,
            installment=form.installment_number,
            callback_url=f"{self._callback_base}/api/v1/payments/callback/{callback_token}",
            card=form.card.to_wire() if form.card else None,
        )
        try:
            redirect = await self._tokens.call(
                record,
                lambda t: self._client.purchase_async(
                    token=t, proposal_id=quote_id, product_id=product_id, body=body
                ),
            )
        except GatewayError as exc:
            # Nothing to redirect to, so nothing the customer can finish: a failed start.
            await self._payments.update_pending(
                payment, status="failed", failureReason="not_started"
            )
            await self._payments.release_product(payment)
            PAYMENTS.labels("not_started").inc()
            log.warning("payment not started", extra={"code": exc.code})
            raise
        await self._payments.update_pending(payment, redirectIssued=True)
        PAYMENTS.labels("started").inc()
        log.info("payment started", extra={"paymentId": payment.paymentId, "method": method})
        return PaymentStarted(payment_id=payment.paymentId, redirect_url=redirect)

    def _checked_method(self, product: ProductWire, form: PurchaseCreate) -> str:
        view = self._quotes.normalizer.product(product)
        if not view.purchasable:
            raise ProductNotPurchasable()
        method = form.method or view.payment_methods[0]
        if method not in view.payment_methods:
            raise PaymentMethodNotSupported(
                f"This product takes: {', '.join(view.payment_methods)}"
            )
        _check_card(method, form)
        if form.installment_number not in {p.installment_number for p in view.premiums}:
            raise ValidationFailed(
                errors=[FieldError("installmentNumber", "is not a plan this product offers")]
            )
        return method

    async def _claim(self, payment: Payment) -> None:
        seconds = int(self._t.abandon_seconds + self._t.grace_seconds)
        for _ in range(2):
            holder = await self._payments.claim_product(payment, seconds=seconds)
            if holder is None:
                return
            other = await self._payments.get(holder)
            if other is not None and other.status == "pending":
                if other.redirectIssued or time.time() - other.createdAt < self._start_lease:
                    raise PaymentInProgress()
                # Its start never finished (the replica died mid-call) and InsurUp, just read,
                # still sells the product: that attempt reached nobody's browser. Retire it.
                await self._payments.update_pending(
                    other, status="failed", failureReason="not_started"
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
        if payment is None or payment.customerId != record.meta.customer_id:
            raise NotFound("Unknown payment")
        if payment.status != "pending":
            return payment
        return await self._verify(payment, wait=False)

    async def _verify(self, payment: Payment, *, wait: bool) -> Payment:
        if not await self._payments.start_verifying(
            payment.paymentId, every_seconds=self._t.verify_every_seconds
        ):
            if wait:  # another replica is checking right now: answer with its result
                for _ in range(int(self._t.call_timeout * 2 / _POLL_SECONDS)):
                    if not await self._payments.verifying(payment.paymentId):
                        break
                    await asyncio.sleep(_POLL_SECONDS)
            return await self._payments.get(payment.paymentId) or payment
        try:
            return await self._check_with_insurup(payment)
        finally:
            await self._payments.done_verifying(payment.paymentId)

    async def _check_with_insurup(self, payment: Payment) -> Payment:
        record = await self._session_for(payment)
        if record is None:
            log.warning("payment cannot be verified: no live session of its customer")
            return payment
        try:
            product = await self._quotes.product(record, payment.quoteId, payment.productId)
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
                extra={"paymentId": payment.paymentId, "status": changes["status"]},
            )
            if changes["status"] == "failed":
                await self._payments.release_product(payment)
        return await self._payments.get(payment.paymentId) or payment

    def _outcome(self, payment: Payment, product: ProductWire) -> dict[str, object] | None:
        """InsurUp's product state -> the payment's next state (None: still pending)."""
        state = product.state
        if state == "PURCHASED" and product.policy_id:
            return {"status": "succeeded", "policyId": product.policy_id}
        if state == "FAILED":
            return {"status": "failed", "failureReason": "insurer_failed"}
        if state == "ACTIVE":
            now = time.time()
            if payment.callbackAt is not None and now - payment.callbackAt > self._t.grace_seconds:
                return {"status": "failed", "failureReason": "payment_not_completed"}
            if payment.callbackAt is None and now - payment.createdAt > self._t.abandon_seconds:
                return {"status": "failed", "failureReason": "abandoned"}
        return None

    async def _session_for(self, payment: Payment) -> SessionRecord | None:
        """The session that started the payment, or any live one of the same customer: the
        customer's own session may have lapsed while they were on the bank's page."""
        handles = [payment.sessionHandle]
        handles += sorted(
            await self._sessions.customer_session_handles(payment.customerId)
            - {payment.sessionHandle}
        )
        for handle in handles:
            record = await self._sessions.load(handle)
            if (
                record is not None
                and record.meta.stage == "authenticated"
                and record.meta.customer_id == payment.customerId
            ):
                return record
        return None


def _check_card(method: str, form: PurchaseCreate) -> None:
    if method in CARD_METHODS and form.card is None:
        raise ValidationFailed(errors=[FieldError("card", "is required for 3-D Secure")])
    if method not in CARD_METHODS and form.card is not None:
        raise ValidationFailed(
            errors=[FieldError("card", "must be left out: the insurer's own page asks for it")]
        )
