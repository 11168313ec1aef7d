"""Starting a payment at InsurUp (`purchase/async`): the card and the body, built only here."""

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from app.insurup.models import Wire
from app.insurup.terms import PURCHASE_TYPES
from app.vocabulary import PaymentMethod


@dataclass(frozen=True, slots=True)
class Card:
    """A validated card, held in memory for the one InsurUp call (never stored, never shown)."""

    number: str = field(repr=False)
    cvc: str = field(repr=False)
    expiry_month: str  # MM
    expiry_year: str  # YYYY
    holder_name: str = field(repr=False)

    def to_wire(self) -> dict[str, Any]:
        """InsurUp's `CreditCard`; the card holder's id is left to the insured."""
        return {
            "identityNumber": None,
            "number": self.number,
            "cvc": self.cvc,
            "expiryMonth": self.expiry_month,
            "expiryYear": self.expiry_year,
            "holderName": self.holder_name,
        }


def purchase_body(
    *,
    method: PaymentMethod,
    proposal_id: str,
    product_id: str,
    installment: int,
    callback_url: str,
    card: Card | None,
) -> dict[str, Any]:
    """`$type` first, ids repeated from the path, the card only for the 3-D Secure methods."""
    body: dict[str, Any] = {
        "$type": PURCHASE_TYPES[method],
        "proposalId": proposal_id,
        "proposalProductId": product_id,
        "installmentNumber": installment,
        "callbackUrl": callback_url,
    }
    if card is not None:
        body["card"] = card.to_wire()
    return body


def _form_fields(value: object) -> object:
    if not isinstance(value, dict):
        return value
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


class PurchaseRedirect(Wire):
    """Where the customer's browser goes to pay. InsurUp's contract names `redirectUrl` only;
    its own site also posts a form (`formParameters`, `method`) when the answer carries one."""

    url: str = Field(alias="redirectUrl", min_length=1)
    method_: str | None = Field(default=None, alias="method")
    fields: Annotated[dict[str, str], BeforeValidator(_form_fields)] = Field(
        default_factory=dict, alias="formParameters"
    )

    @property
    def method(self) -> Literal["GET", "POST"]:
        return "POST" if (self.method_ or "").upper() == "POST" else "GET"
