"""`POST proposals/{id}/products/{ppid}/purchase/async` (reference 6.1-6.7).

On success the product is PURCHASING and the answer is `{"redirectUrl"}` to the sandbox's
fake bank / insurer page (`payment_page.py`). Card numbers and CVCs are validated and then
dropped: the payment session keeps the last four digits only, and problem details never
echo card data (`attemptedValue` is blanked for every card property).
"""

import base64
import datetime as dt
import re
import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from .auth import authenticate
from .config import Operation
from .enums import AsyncPaymentType, ProductType, ProposalProductState
from .faults import inject_faults
from .lifecycle import turkish_date, wake_at
from .problems import ProblemError, ValidationIssue
from .proposals import own_product, own_proposal
from .records import PaymentSession
from .routing import base_url, body_must_repeat_path
from .state import SandboxState
from .validation import WireModel, parse_polymorphic_body, read_json_object

APPROVING_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"
"""Luhn-valid test card that the payment page always declines."""

SEED_SHAPE_HINTS = {
    "$type": (
        "'$type' must be 3d-secure, insurance-company-redirect or third-party-3d-secure "
        "(the first property); sync types belong to purchase/sync."
    ),
    "identityNumber": (
        "'identityNumber' is not a property of the purchase body; put it in 'card'."
    ),
}
_SAFE_TO_ECHO = frozenset(
    {"$type", "proposalId", "proposalProductId", "installmentNumber", "callbackUrl"}
)
_MONTH_RE = re.compile(r"0[1-9]|1[0-2]")


class CardBody(WireModel):
    number: str = Field(strict=True)
    cvc: str = Field(strict=True)
    expiry_month: str = Field(alias="expiryMonth", strict=True)
    expiry_year: str = Field(alias="expiryYear", strict=True)
    holder_name: str = Field(alias="holderName", strict=True, min_length=1, max_length=100)
    identity_number: str | None = Field(default=None, alias="identityNumber", strict=True)


class _PurchaseBody(WireModel):
    proposal_id: str = Field(alias="proposalId", strict=True)
    proposal_product_id: str = Field(alias="proposalProductId", strict=True)
    installment_number: int = Field(alias="installmentNumber", strict=True, ge=1)
    callback_url: str = Field(alias="callbackUrl", strict=True, min_length=1, max_length=2048)


class CardPurchaseBody(_PurchaseBody):
    type: Literal["3d-secure", "third-party-3d-secure"] = Field(alias="$type")
    card: CardBody


class RedirectPurchaseBody(_PurchaseBody):
    type: Literal["insurance-company-redirect"] = Field(alias="$type")


def new_pa_req() -> str:
    """An opaque 3-D Secure `PaReq`: standard base64 that always contains `+`, `/` and `=`,
    so a client that forgets to form-encode it breaks visibly."""
    return base64.b64encode(b"\xfb\xff\xbf" + secrets.token_bytes(44)).decode("ascii")


def luhn_valid(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _digits(value: str, low: int, high: int) -> bool:
    return value.isascii() and value.isdigit() and low <= len(value) <= high


def card_issues(card: CardBody, today: dt.date) -> list[ValidationIssue]:
    """Shape checks of `CreditCard` (6.2). Attempted values are never echoed."""
    issues: list[ValidationIssue] = []

    def issue(prop: str, message: str) -> None:
        issues.append(ValidationIssue(f"card.{prop}", f"'card.{prop}' {message}", None))

    if not (_digits(card.number, 12, 19) and luhn_valid(card.number)):
        issue("number", "must be 12-19 digits with a valid check digit (Luhn).")
    if not _digits(card.cvc, 3, 4):
        issue("cvc", "must be 3 or 4 digits.")
    month_ok = _MONTH_RE.fullmatch(card.expiry_month) is not None
    year_ok = _digits(card.expiry_year, 4, 4)
    if not month_ok:
        issue("expiryMonth", "must be the month as MM (01-12).")
    if not year_ok:
        issue("expiryYear", "must be the year as YYYY.")
    if (
        month_ok
        and year_ok
        and (int(card.expiry_year), int(card.expiry_month))
        < (
            today.year,
            today.month,
        )
    ):
        issue("expiryYear", "is in the past: the card has expired.")
    if not card.holder_name.strip():
        issue("holderName", "must not be blank.")
    if card.identity_number is not None and not _digits(card.identity_number, 10, 11):
        issue("identityNumber", "must be the card holder's identity number.")
    return issues


def _callback_issues(url: str) -> list[ValidationIssue]:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc and not any(c.isspace() for c in url):
        return []
    return [ValidationIssue("callbackUrl", "'callbackUrl' must be an absolute http(s) URL.", url)]


def parse_purchase_body(
    raw: dict[str, Any], today: dt.date
) -> CardPurchaseBody | RedirectPurchaseBody:
    model: type[CardPurchaseBody | RedirectPurchaseBody] = (
        RedirectPurchaseBody
        if raw.get("$type") == AsyncPaymentType.INSURANCE_COMPANY_REDIRECT.value
        else CardPurchaseBody
    )
    try:
        body = parse_polymorphic_body(model, raw, SEED_SHAPE_HINTS)
    except ProblemError as problem:
        raise ProblemError.input_validation(_redacted(problem.validation_errors)) from None
    issues = _callback_issues(body.callback_url)
    if isinstance(body, CardPurchaseBody):
        issues += card_issues(body.card, today)
    if issues:
        raise ProblemError.input_validation(issues)
    return body


def _redacted(issues: tuple[ValidationIssue, ...]) -> list[ValidationIssue]:
    return [
        ValidationIssue(
            issue.property_name,
            issue.error_message,
            issue.attempted_value if issue.property_name in _SAFE_TO_ECHO else None,
        )
        for issue in issues
    ]


def build_purchase_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["purchase"])

    @router.post("/proposals/{proposal_id}/products/{product_id}/purchase/async")
    async def purchase_async(proposal_id: str, product_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PURCHASE)
        customer = authenticate(state, request)
        now = state.now()
        body = parse_purchase_body(await read_json_object(request), turkish_date(now))
        body_must_repeat_path(
            {"proposalId": body.proposal_id, "proposalProductId": body.proposal_product_id},
            {"proposalId": proposal_id, "proposalProductId": product_id},
        )
        method = AsyncPaymentType(body.type)
        with state.lock:
            proposal = own_proposal(state, proposal_id, customer)
            product = own_product(proposal, product_id)
            if product.product_type is ProductType.ROBOT:
                raise ProblemError.business_validation(
                    ["PRODUCT_NOT_PURCHASABLE"],
                    "Robot products cannot be bought through the API; "
                    "the agency completes the sale.",
                )
            if product.state is not ProposalProductState.ACTIVE:
                raise ProblemError.invalid_state(
                    f"The product is {product.state.value}; only an ACTIVE product can be bought.",
                    codes=["PROPOSAL_PRODUCT_NOT_ACTIVE"],
                )
            busy = [
                p
                for p in proposal.products
                if p.state in (ProposalProductState.PURCHASING, ProposalProductState.PURCHASED)
            ]
            if busy:
                raise ProblemError.invalid_state(
                    f"Another product of the proposal is {busy[0].state.value}.",
                    codes=["PROPOSAL_ALREADY_PURCHASING"],
                )
            if method.payment_option not in product.insurer.payment_options:
                raise ProblemError.business_validation(
                    ["PAYMENT_OPTION_NOT_SUPPORTED"],
                    f"{product.insurer.name} does not support {method.value} payments.",
                )
            if product.premium(body.installment_number) is None:
                raise ProblemError.business_validation(
                    ["INSTALLMENT_NOT_OFFERED"],
                    f"The product offers no {body.installment_number}-installment premium.",
                )
            card = body.card if isinstance(body, CardPurchaseBody) else None
            form_post = state.config.purchase_form_post and method.needs_card
            session = state.add_payment_session(
                PaymentSession(
                    id=secrets.token_hex(16),
                    customer_id=customer.id,
                    proposal_id=proposal.id,
                    product_id=product.id,
                    method=method,
                    installment_number=body.installment_number,
                    callback_url=body.callback_url,
                    created_at=now,
                    expires_at=now + state.config.payment_session_seconds,
                    card_last4=None if card is None else card.number[-4:],
                    card_declines=card is not None and card.number == DECLINING_CARD,
                    pa_req=new_pa_req() if form_post else None,
                )
            )
            product.state = ProposalProductState.PURCHASING
            product.payment_session_id = session.id
            state.purchase_starts[product.id] += 1
            wake_at(state, session.expires_at)
        public = (state.config.public_base_url or base_url(request)).rstrip("/")
        answer: dict[str, object] = {"redirectUrl": f"{public}/sandbox/pay/{session.id}"}
        if session.pa_req is not None:
            answer["method"] = "POST"
            answer["formParameters"] = {
                "PaReq": session.pa_req,
                "MD": session.id,
                "TermUrl": session.callback_url,
            }
        return JSONResponse(answer)

    return router
