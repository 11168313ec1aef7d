"""InsurUp's policy shapes, the purchase body, and policy documents that come as PDF or URL."""

from datetime import date
from typing import Any

from pydantic import Field

from app.insurup.models import Wire

PAYMENT_TYPES = {
    "3d-secure": "3d-secure",
    "third-party-3d-secure": "third-party-3d-secure",
    "insurance-company-redirect": "insurance-company-redirect",
}


class PolicyWire(Wire):
    id: str
    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    policy_number: str | None = Field(default=None, alias="insuranceCompanyPolicyNumber")
    start_date: date | None = Field(default=None, alias="startDate")
    end_date: date | None = Field(default=None, alias="endDate")
    gross_premium: float | None = Field(default=None, alias="grossPremium")
    currency: str | None = None
    state: str | None = None
    insurer_customer_id: str | None = Field(default=None, alias="insurerCustomerId")


class InsuranceCompanyWire(Wire):
    id: int
    name: str
    logo: str | None = None


def purchase_body(
    *,
    method: str,
    proposal_id: str,
    product_id: str,
    installment: int,
    callback_url: str,
    card: dict[str, Any] | None,
) -> dict[str, Any]:
    """`purchase/async`: `$type` first, ids repeated from the path, card only for 3-D Secure."""
    body: dict[str, Any] = {
        "$type": PAYMENT_TYPES[method],
        "proposalId": proposal_id,
        "proposalProductId": product_id,
        "installmentNumber": installment,
        "callbackUrl": callback_url,
    }
    if card is not None:
        body["card"] = card
    return body
