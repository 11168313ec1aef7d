"""State transitions of products, payment sessions and policies (reference 5.10, 6, 8).

No background tasks: every transition is due at a point in time and is applied lazily by
`settle(state)`, which the routers call before they read. With a `ManualClock`, a test
advances the clock and the next read sees the new states.

Product: WAITING -> ACTIVE | FAILED (at `priced_at`); FAILED -> WAITING on retry;
ACTIVE -> PURCHASING (purchase/async) -> PURCHASED (+ policy) or back to ACTIVE (declined or
expired payment), `purchase_settle_seconds` after the payment page's decision.

Webhooks (reference 9.2) are emitted where a purchase is applied: `proposal_premium.purchased`
and `policy.created` when the product becomes PURCHASED, `proposal_premium.purchase_failed`
when it goes back to ACTIVE (declined or expired). With webhooks on, `wake_at` also applies
time-driven transitions when they are due, so the webhooks go out even if nobody reads.
"""

import datetime as dt
from typing import Any

from .config import WebhookEvent
from .enums import ProductBranch, ProposalProductState, ProposalState
from .pricing import pricing_delay
from .records import (
    PaymentDecision,
    PaymentSession,
    Policy,
    PricingOutcome,
    Proposal,
    ProposalProduct,
)
from .state import SandboxState

TURKEY = dt.timezone(dt.timedelta(hours=3), "TRT")
"""Türkiye has been on UTC+3 all year since 2016."""


def turkish_date(epoch: float) -> dt.date:
    return dt.datetime.fromtimestamp(epoch, TURKEY).date()


def one_year_later(start: dt.date) -> dt.date:
    try:
        return start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        return start.replace(year=start.year + 1, day=28)


def settle(state: SandboxState) -> None:
    """Apply every transition that is due by now."""
    now = state.now()
    with state.lock:
        for product in state.products.values():
            _settle_product(state, product, now)


def wake_at(state: SandboxState, at: float) -> None:
    """With webhooks on: `settle` again when `at` (epoch seconds, `config.now`) is due."""
    state.webhooks.wake_after(at - state.now(), lambda: settle(state))


def _settle_product(state: SandboxState, product: ProposalProduct, now: float) -> None:
    if product.state is ProposalProductState.WAITING and now >= product.priced_at:
        if product.outcome is PricingOutcome.ACTIVE:
            product.state = ProposalProductState.ACTIVE
            product.error_message = None
        else:
            product.state = ProposalProductState.FAILED
            product.error_message = product.failure_message
    if product.state is not ProposalProductState.PURCHASING or product.payment_session_id is None:
        return
    session = state.payment_sessions[product.payment_session_id]
    if session.decision is None and now >= session.expires_at:
        _decide(session, PaymentDecision.EXPIRED, session.expires_at, 0.0)
        session.failure_reason = "Ödeme oturumu zaman aşımına uğradı."
        state.payment_outcomes[PaymentDecision.EXPIRED.value] += 1
    if session.decision is None or session.settled:
        return
    assert session.settles_at is not None
    if now < session.settles_at:
        return
    session.settled = True
    if session.decision is PaymentDecision.APPROVED:
        policy = _issue_policy(state, product, session, session.settles_at)
        session.policy_id = policy.id
        product.policy_id = policy.id
        product.state = ProposalProductState.PURCHASED
        state.webhooks.emit(WebhookEvent.PURCHASED, _purchased_payload(policy))
        state.webhooks.emit(WebhookEvent.POLICY_CREATED, _policy_created_payload(state, policy))
    else:
        # InsurUp's docs are silent on the state after a failed payment: ACTIVE again, so
        # the customer can retry; the purchase_failed webhook is the signal.
        product.state = ProposalProductState.ACTIVE
        state.webhooks.emit(
            WebhookEvent.PURCHASE_FAILED, _purchase_failed_payload(product, session)
        )


def _purchased_payload(policy: Policy) -> dict[str, Any]:
    return {
        "proposalId": policy.proposal_id,
        "policyId": policy.id,
        "productId": policy.insurer.product_id,
        "installmentNumber": policy.installment_number,
        "paymentType": policy.payment_method.payment_option.value,
        "policyStartDate": policy.start_date,
        "policyEndDate": policy.end_date,
    }


def _purchase_failed_payload(product: ProposalProduct, session: PaymentSession) -> dict[str, Any]:
    return {
        "proposalId": product.proposal_id,
        "productId": product.insurer.product_id,
        "installmentNumber": session.installment_number,
        "paymentType": session.method.payment_option.value,
        "failureReason": session.failure_reason,
    }


def _policy_created_payload(state: SandboxState, policy: Policy) -> dict[str, Any]:
    insurer = policy.insurer
    origin = state.config.public_base_url
    return {
        "policyId": policy.id,
        "proposalId": policy.proposal_id,
        "productId": insurer.product_id,
        "installmentNumber": policy.installment_number,
        "paymentType": policy.payment_method.payment_option.value,
        "insuranceCompany": {
            "id": insurer.id,
            "name": insurer.name,
            "logo": None if origin is None else origin.rstrip("/") + insurer.logo_path(),
            "enabled": True,
            "supportedPaymentOptions": [option.value for option in insurer.payment_options],
        },
        "startDate": policy.start_date,
        "endDate": policy.end_date,
        "renewalNumber": 0,
        "productBranch": ProductBranch.KASKO.value,
        "insurerCustomerId": policy.customer_id,
        "insuredCustomerId": policy.insured_customer_id,
        "fromPolicyTransfer": False,
        "grossPremium": policy.premium.gross_premium,
        "netPremium": policy.premium.net_premium,
        "channel": policy.channel.value,
        "insuranceCompanyPolicyNo": policy.number,
    }


def _decide(
    session: PaymentSession, decision: PaymentDecision, at: float, settle_seconds: float
) -> None:
    session.decision = decision
    session.decided_at = at
    session.settles_at = at + settle_seconds


def decide_payment(
    state: SandboxState, session: PaymentSession, decision: PaymentDecision, reason: str | None
) -> None:
    """Record the payment page's decision; it takes effect `purchase_settle_seconds` later."""
    now = state.now()
    with state.lock:
        _decide(session, decision, now, state.config.purchase_settle_seconds)
        session.failure_reason = reason
        state.payment_outcomes[decision.value] += 1
        _settle_product(state, state.products[session.product_id], now)
        if not session.settled and session.settles_at is not None:
            wake_at(state, session.settles_at)


def _issue_policy(
    state: SandboxState, product: ProposalProduct, session: PaymentSession, at: float
) -> Policy:
    proposal = state.proposals[product.proposal_id]
    premium = product.premium(session.installment_number)
    assert premium is not None
    start = (
        dt.date.fromisoformat(proposal.policy_start_date)
        if proposal.policy_start_date
        else turkish_date(at)
    )
    return state.add_policy(
        Policy(
            id=state.new_object_id(),
            number=state.next_policy_number(at),
            customer_id=proposal.insurer_customer_id,
            insured_customer_id=proposal.insured_customer_id,
            proposal_id=proposal.id,
            product_id=product.id,
            insurer=product.insurer,
            installment_number=session.installment_number,
            premium=premium,
            payment_method=session.method,
            channel=proposal.channel,
            created_at=at,
            start_date=start.isoformat(),
            end_date=one_year_later(start).isoformat(),
            snapshot=proposal.snapshot,
            coverage=product.coverage,
            agent_branch_id=proposal.agent_branch_id,
        )
    )


def retry_product(state: SandboxState, product: ProposalProduct) -> None:
    """FAILED -> WAITING; priced again after a fresh delay, and this time it succeeds."""
    now = state.now()
    with state.lock:
        product.retries += 1
        product.state = ProposalProductState.WAITING
        product.error_message = None
        product.outcome = PricingOutcome.ACTIVE
        product.priced_at = now + pricing_delay(
            state.config.pricing_delay_seconds,
            product.id,
            product.product_type,
            product.retries,
        )


def proposal_state(proposal: Proposal) -> ProposalState:
    """Derived (5.10, undocumented upstream): a bought product wins, then one being bought,
    then any quote; WAITING while nothing is priced yet; FAILED when every product failed."""
    states = {product.state for product in proposal.products}
    for product_state, derived in (
        (ProposalProductState.PURCHASED, ProposalState.PURCHASED),
        (ProposalProductState.PURCHASING, ProposalState.PURCHASING),
        (ProposalProductState.ACTIVE, ProposalState.ACTIVE),
        (ProposalProductState.WAITING, ProposalState.WAITING),
    ):
        if product_state in states:
            return derived
    return ProposalState.FAILED
