"""The money path: start a payment, take the signals that say how it ended, trust only InsurUp.

A payment settles once, whichever signal comes first: a signed InsurUp webhook (InsurUp's
own word), the provider's callback, the customer's status poll, or the reconciler that
checks pending payments without any customer. A callback or a poll is only a hint: the
outcome is what InsurUp says about the product (purchased, with a policy id). The settling
replica writes one `payment settled` log line. Card data exists only in memory for the one
InsurUp call.
"""

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass

from app.clock import Clock
from app.core.cases import CaseKeeper
from app.core.tokens import CustomerClients
from app.errors import (
    FieldError,
    GatewayError,
    InformationFormRequired,
    NotFound,
    PaymentInProgress,
    PaymentMethodNotSupported,
    ProductNotPurchasable,
    StoreUnavailable,
    UpstreamRejected,
    ValidationFailed,
)
from app.insurup.client import InsurUpClient
from app.insurup.proposals import ProductWire
from app.payments.schemas import PaymentStarted, PurchaseCreate, Redirect
from app.quotes.service import QuoteService
from app.store.idempotency import IdempotencyStore, fingerprint
from app.store.information_forms import InformationForms
from app.store.keys import Keys
from app.store.locks import LeaseLocks, LeasePolicy, StillHeld
from app.store.payments import Payment, PaymentStore, Signal
from app.store.sessions import SessionRecord, SessionStore
from app.telemetry.metrics import PAYMENTS, SETTLEMENTS
from app.vocabulary import CARD_METHODS, PaymentMethod

log = logging.getLogger("app.payments")

# After the customer comes back, InsurUp is asked again this long after the callback (s).
_FOLLOW_UP_PAUSES = (1.0, 1.0, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class PaymentTimings:
    grace_seconds: float  # a product still unpaid this long after the callback has failed
    abandon_seconds: float  # pending this long after the start, whatever the state: ended
    verify_every_seconds: float  # at most one InsurUp check per payment per interval
    # A failure webhook can beat the customer's browser back from the bank page: wait this
    # long for their return before calling it `abandoned` rather than `declined`.
    return_wait_seconds: float = 3.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a payment ended: `succeeded` with the policy, or `failed` with a reason."""

    succeeded: bool
    policy_id: str | None = None
    failure_reason: str | None = None

    @classmethod
    def paid(cls, policy_id: str) -> "Outcome":
        return cls(succeeded=True, policy_id=policy_id)

    @classmethod
    def failed(cls, reason: str) -> "Outcome":
        return cls(succeeded=False, failure_reason=reason)


class PaymentService:
    def __init__(
        self,
        *,
        insurup: CustomerClients,
        agency: InsurUpClient | None,
        payments: PaymentStore,
        sessions: SessionStore,
        idempotency: IdempotencyStore,
        quotes: QuoteService,
        forms: InformationForms,
        cases: CaseKeeper,
        keys: Keys,
        locks: LeaseLocks,
        leases: LeasePolicy,
        clock: Clock,
        callback_base: str,
        timings: PaymentTimings,
    ) -> None:
        self._insurup = insurup
        # InsurUp as the agency (a service account): checks that need no customer session.
        self._agency = agency
        self._payments = payments
        self._sessions = sessions
        self._idempotency = idempotency
        self._quotes = quotes
        self._forms = forms
        self._cases = cases
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
        self._follow_ups: set[asyncio.Task[None]] = set()

    @property
    def verifies_without_customers(self) -> bool:
        return self._agency is not None

    # -- starting -------------------------------------------------------------------------------

    async def purchase(
        self,
        record: SessionRecord,
        *,
        quote_id: str,
        product_id: str,
        form: PurchaseCreate,
        idempotency_key: str,
        callback_base: str | None = None,
    ) -> PaymentStarted:
        """Start paying; the provider sends the customer back to `callback_base` (default: the
        gateway's public URL)."""
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
            run=lambda: self._start(
                record, quote_id, product_id, form, callback_base or self._callback_base
            ),
            answer=PaymentStarted,
        )

    async def _start(
        self,
        record: SessionRecord,
        quote_id: str,
        product_id: str,
        form: PurchaseCreate,
        callback_base: str,
    ) -> PaymentStarted:
        # A second click, or another product of the same quote, while a payment is under way:
        # say so (with the payment to follow), before InsurUp says it in its own words.
        await self._refuse_if_paying(quote_id)
        product = await self._quotes.product(record, quote_id, product_id)
        method = self._checked_method(product, form)
        accepted_at = await self._information_form_accepted(record, quote_id, product_id, form)
        now = self._clock.now()
        payment = Payment(
            payment_id=uuid.uuid4().hex,
            customer_id=record.customer_id,
            session_handle=record.handle,
            quote_id=quote_id,
            product_id=product_id,
            insurer_product_id=product.insurer_product_id,
            installment_number=form.installment_number,
            method=method,
            created_at=now,
            updated_at=now,
            information_form_accepted_at=accepted_at,
        )
        callback_token = secrets.token_urlsafe(32)
        try:
            await self._claim(payment)
            await self._payments.create(payment, callback_token=callback_token)
        except StoreUnavailable:
            # Nothing was started. The claim may be on the master although it was not
            # acknowledged (too few replicas confirmed it): give it back, or the quote would
            # stay held, for a payment that does not exist, until the claim expires.
            with contextlib.suppress(StoreUnavailable):
                await self._payments.release_quote(payment)
            raise
        try:
            redirect = await self._insurup.of(record).purchase_async(
                proposal_id=quote_id,
                product_id=product_id,
                method=method,
                installment=form.installment_number,
                callback_url=f"{callback_base}/api/v1/payments/callback/{callback_token}",
                card=form.card.card() if form.card else None,
            )
        except GatewayError as exc:
            # Nothing to redirect to, so nothing the customer can finish: a failed start.
            await self.settle(payment, Outcome.failed("not_started"), signal="start")
            PAYMENTS.labels("not_started").inc()
            log.warning("payment not started", extra={"code": exc.code})
            if isinstance(exc, UpstreamRejected) and exc.status == 409:
                # InsurUp holds another product of this quote (bought outside this gateway).
                raise PaymentInProgress(
                    "Another product of this quote is being paid for; start a new quote "
                    "for the same vehicle to choose again"
                ) from exc
            raise
        await self._payments.update_pending(payment, redirect_issued=True)
        self._cases.note_sale(record)
        PAYMENTS.labels("started").inc()
        log.info("payment started", extra={"paymentId": payment.payment_id, "method": method})
        await self._note_if_purchasing(payment, record)
        return PaymentStarted(
            payment_id=payment.payment_id,
            redirect=Redirect(url=redirect.url, method=redirect.method, fields=redirect.fields),
            redirect_url=redirect.url if redirect.method == "GET" else None,
        )

    async def _refuse_if_paying(self, quote_id: str) -> None:
        holder_id = await self._payments.paying_for(quote_id)
        holder = await self._payments.get(holder_id) if holder_id else None
        if holder is not None and holder.status == "pending" and self._still_live(holder):
            raise PaymentInProgress(
                "A payment for this quote is under way: follow it, or start a new quote for "
                "the same vehicle",
                extras={"paymentId": holder.payment_id},
            )

    def _still_live(self, payment: Payment) -> bool:
        """Whether a pending payment can still be paid: its customer may be on the bank page,
        or its start is still running on some replica."""
        young = self._clock.now() - payment.created_at < self._start_lease
        return payment.redirect_issued or young

    async def _information_form_accepted(
        self, record: SessionRecord, quote_id: str, product_id: str, form: PurchaseCreate
    ) -> float:
        """A distance sale needs the pre-contract form opened (in this session) and accepted."""
        opened = await self._forms.opened_at(record.handle, quote_id, product_id)
        if opened is None or not form.information_form_accepted:
            raise InformationFormRequired(
                "Open this product's pre-contract information form, then accept it",
                errors=[
                    FieldError(
                        "informationFormAccepted",
                        "must be true, after the form was opened"
                        if opened is not None
                        else "needs the form opened first (GET .../information-form)",
                    )
                ],
            )
        return self._clock.now()

    def _checked_method(self, product: ProductWire, form: PurchaseCreate) -> PaymentMethod:
        offer = self._quotes.offer(product)
        if not offer.purchasable:
            raise ProductNotPurchasable(
                f"This product cannot be bought online ({offer.not_purchasable_reason})"
            )
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
            holder_id = await self._payments.claim_quote(payment, seconds=seconds)
            if holder_id is None:
                return
            holder = await self._payments.get(holder_id)
            if holder is not None and holder.status == "pending":
                if self._still_live(holder):
                    raise PaymentInProgress(extras={"paymentId": holder.payment_id})
                # Its start never finished (the replica died mid-call) and InsurUp, just read,
                # still sells the product: that attempt reached nobody's browser. Retire it.
                await self.settle(holder, Outcome.failed("not_started"), signal="start")
            # The claim outlived its payment (finished, expired or retired): take it over.
            if holder is not None:
                await self._payments.release_quote(holder)
        raise PaymentInProgress()

    async def _note_if_purchasing(self, payment: Payment, record: SessionRecord) -> None:
        """One read right after the start: a product InsurUp holds (PURCHASING) for this
        payment that is later ACTIVE again has ended without a sale (a decline)."""
        try:
            product = await self._quotes.product(record, payment.quote_id, payment.product_id)
        except GatewayError:
            return
        if product.state == "purchasing":
            await self._payments.update_pending(payment, seen_purchasing=True)

    # -- signals --------------------------------------------------------------------------------

    async def callback(self, callback_token: str) -> Payment:
        """Whatever the request claims, the outcome comes from InsurUp."""
        payment = await self._payments.by_callback(callback_token)
        if payment is None:
            raise NotFound("Unknown payment")
        if payment.status != "pending":
            return payment
        payment = await self._payments.note_callback(payment)
        checked = await self._verify(payment, wait=True, signal="callback")
        if checked.status == "pending":
            self._follow_up(checked.payment_id)
        return checked

    async def status(self, record: SessionRecord, payment_id: str) -> Payment:
        payment = await self._payments.get(payment_id)
        if payment is None or payment.customer_id != record.info.customer_id:
            raise NotFound("Unknown payment")
        if payment.status != "pending":
            return payment
        return await self._verify(payment, wait=False, signal="status")

    async def purchased(self, *, quote_id: str, insurer_product_id: int, policy_id: str) -> bool:
        """InsurUp's signed word that a product was bought (a webhook)."""
        payment = await self._payments.by_product(quote_id, insurer_product_id)
        if payment is None:
            return False
        return await self.settle(payment, Outcome.paid(policy_id), signal="webhook")

    async def purchase_failed(self, *, quote_id: str, insurer_product_id: int) -> bool:
        """InsurUp's signed word that a payment failed (a webhook): no money was taken. A
        customer who came back was declined; one who never does left the bank page. The
        webhook may arrive before the browser does, so that is decided a moment later."""
        payment = await self._payments.by_product(quote_id, insurer_product_id)
        if payment is None or payment.status != "pending":
            return False
        if payment.callback_at is not None:
            return await self.settle(payment, Outcome.failed("declined"), signal="webhook")
        self._background(self._failed_after_return_wait(payment.payment_id))
        return True

    async def _failed_after_return_wait(self, payment_id: str) -> None:
        await asyncio.sleep(self._timings.return_wait_seconds)
        payment = await self._payments.get(payment_id)
        if payment is not None and payment.status == "pending":
            reason = "declined" if payment.callback_at is not None else "abandoned"
            await self.settle(payment, Outcome.failed(reason), signal="webhook")

    async def reconcile(self, payment_id: str) -> None:
        """The reconciler's look at one pending payment (no customer needed with a service
        account), at most once per back-off interval, by one replica at a time."""
        payment = await self._payments.get(payment_id)
        if payment is None or payment.status != "pending":
            await self._payments.forget_pending(payment_id)
            return
        age = self._clock.now() - payment.created_at
        if await self._payments.checked_recently(payment_id, every_seconds=_back_off(age)):
            return
        payment = await self._verify(payment, wait=False, signal="reconciler")
        if payment.status == "pending" and age > self._timings.abandon_seconds:
            # No signal in all this time: end it, with the reason in the log.
            log.warning(
                "payment abandoned: no final state from InsurUp",
                extra={"paymentId": payment_id, "seconds": round(age)},
            )
            await self.settle(payment, Outcome.failed("abandoned"), signal="reconciler")

    async def settle(self, payment: Payment, outcome: Outcome, *, signal: Signal) -> bool:
        """Record how a payment ended, once; True for the caller that settled it."""
        status = "succeeded" if outcome.succeeded else "failed"
        stored = await self._payments.update_pending(
            payment,
            status=status,
            policy_id=outcome.policy_id,
            failure_reason=outcome.failure_reason,
            settled_by=signal,
        )
        if not stored:
            return False
        PAYMENTS.labels(status).inc()
        SETTLEMENTS.labels(signal, status).inc()
        log.info(
            "payment settled",
            extra={
                "paymentId": payment.payment_id,
                "signal": signal,
                "status": status,
                "reason": outcome.failure_reason,
            },
        )
        # The quote may be paid for again (a failure), or is sold (no claim needed).
        await self._payments.release_quote(payment)
        return True

    # -- checking with InsurUp --------------------------------------------------------------------

    async def _verify(self, payment: Payment, *, wait: bool, signal: Signal) -> Payment:
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
                return await self._check_with_insurup(payment, signal)
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

    async def _check_with_insurup(self, payment: Payment, signal: Signal) -> Payment:
        current = await self._payments.get(payment.payment_id) or payment
        if current.status != "pending":
            return current
        try:
            product = await self._read_product(current)
        except GatewayError as exc:
            log.warning("payment verification failed", extra={"code": exc.code})
            return current
        if product is None:
            return current
        if product.state == "purchasing" and not current.seen_purchasing:
            await self._payments.update_pending(current, seen_purchasing=True)
        outcome = self._outcome(current, product)
        if outcome is not None:
            await self.settle(current, outcome, signal=signal)
        return await self._payments.get(payment.payment_id) or current

    async def _read_product(self, payment: Payment) -> ProductWire | None:
        """The product as InsurUp has it now: as the agency when a service account is
        configured, else through a live session of the customer."""
        if self._agency is not None:
            proposal = await self._agency.proposal(proposal_id=payment.quote_id)
            return proposal.product(payment.product_id)
        record = await self._session_for(payment)
        if record is None:
            log.info("payment cannot be checked: no service account, no live session")
            return None
        return await self._quotes.product(record, payment.quote_id, payment.product_id)

    def _outcome(self, payment: Payment, product: ProductWire) -> Outcome | None:
        """The product as InsurUp has it -> how the payment ended (None: not yet known)."""
        if product.state == "purchased" and product.policy_id:
            return Outcome.paid(product.policy_id)
        if product.state == "failed":
            return Outcome.failed("insurer_failed")
        if product.state != "active":
            return None
        called_back = payment.callback_at
        if called_back is not None and payment.seen_purchasing:
            # InsurUp held the product for this payment and has let it go without a policy
            # after the customer came back: the payment did not go through.
            return Outcome.failed("declined")
        now = self._clock.now()
        if called_back is not None and now - called_back > self._timings.grace_seconds:
            return Outcome.failed("payment_not_completed")
        if called_back is None and now - payment.created_at > self._timings.abandon_seconds:
            return Outcome.failed("abandoned")
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

    def _follow_up(self, payment_id: str) -> None:
        """After a callback that left the payment pending: ask again shortly, a few times, so
        the customer hears within seconds (the reconciler covers a replica that dies)."""

        async def again() -> None:
            for pause in _FOLLOW_UP_PAUSES:
                await asyncio.sleep(pause)
                payment = await self._payments.get(payment_id)
                if payment is None or payment.status != "pending":
                    return
                await self._verify(payment, wait=False, signal="callback")

        self._background(again())

    def _background(self, work: Coroutine[None, None, None]) -> None:
        """Work that outlives the request (the reconciler covers a replica that dies)."""
        task = asyncio.create_task(work)
        self._follow_ups.add(task)
        task.add_done_callback(self._follow_ups.discard)

    async def aclose(self) -> None:
        tasks = list(self._follow_ups)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _back_off(age: float) -> float:
    """How often the reconciler asks InsurUp about a payment of this age (s)."""
    if age < 60:
        return 2.0
    if age < 600:
        return 15.0
    return 60.0


def _check_card(method: PaymentMethod, form: PurchaseCreate) -> None:
    if method in CARD_METHODS and form.card is None:
        raise ValidationFailed(errors=[FieldError("card", "is required for 3-D Secure")])
    if method not in CARD_METHODS and form.card is not None:
        raise ValidationFailed(
            errors=[FieldError("card", "must be left out: the insurer's own page asks for it")]
        )
