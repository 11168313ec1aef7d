"""InsurUp's proposal read model (`GET /api/proposals/{id}`) and the bodies we send about it.

Enum values stay as InsurUp's strings here; the quote view decides what they mean, and an
unknown value never breaks parsing.
"""

from datetime import date
from typing import Any

from pydantic import Field

from app.insurup.models import Wire


class PremiumWire(Wire):
    installment_number: int = Field(alias="installmentNumber")
    net_premium: float | None = Field(default=None, alias="netPremium")
    gross_premium: float | None = Field(default=None, alias="grossPremium")
    currency: str | None = None
    insurer_proposal_number: str | None = Field(
        default=None, alias="insuranceCompanyProposalNumber"
    )


class ProductWire(Wire):
    id: str
    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    insurance_company_name: str | None = Field(default=None, alias="insuranceCompanyName")
    insurance_company_logo: str | None = Field(default=None, alias="insuranceCompanyLogo")
    product_id: int | None = Field(default=None, alias="productId")
    product_name: str | None = Field(default=None, alias="productName")
    product_type: str | None = Field(default=None, alias="productType")
    state: str | None = None
    premiums: list[PremiumWire] = Field(default_factory=list)
    supported_payment_options: list[str] = Field(
        default_factory=list, alias="supportedPaymentOptions"
    )
    policy_id: str | None = Field(default=None, alias="policyId")
    error_message: str | None = Field(default=None, alias="errorMessage")
    coverage_group_id: str | None = Field(default=None, alias="coverageGroupId")
    coverage_group_name: str | None = Field(default=None, alias="coverageGroupName")


class ProposalWire(Wire):
    proposal_id: str = Field(alias="proposalId")
    state: str | None = None
    policy_start_date: date | None = Field(default=None, alias="policyStartDate")
    products: list[ProductWire] = Field(default_factory=list)

    def product(self, product_id: str) -> ProductWire | None:
        return next((p for p in self.products if p.id == product_id), None)


def proposal_body(
    *,
    customer_id: str,
    vehicle_id: str,
    coverage_group_ids: list[str],
    channel: str,
    agent_branch_id: str | None,
    policy_start_date: date | None,
) -> dict[str, Any]:
    """`POST /api/proposals` for kasko: `$type` first, the customer insures themself."""
    body: dict[str, Any] = {
        "$type": "kasko",
        "productBranch": "KASKO",
        "insurerCustomerId": customer_id,
        "insuredCustomerId": customer_id,
        "vehicleId": vehicle_id,
        "coverageGroupIds": coverage_group_ids,
        "channel": channel,
    }
    if agent_branch_id:
        body["agentBranchId"] = agent_branch_id
    if policy_start_date:
        body["policyStartDate"] = policy_start_date.isoformat()
    return body
