"""InsurUp's proposal read model (`GET /api/proposals/{id}`), its coverage and premium detail,
and the bodies we send about proposals. Enum values are read in the gateway's own words
(`terms.py`); an unknown value never breaks parsing."""

from datetime import date
from typing import Annotated, Any

from pydantic import Field, JsonValue

from app.insurup import terms
from app.insurup.models import Wire
from app.vocabulary import Channel, Currency, PaymentMethod, ProductKind, ProductState

# InsurUp's enum values are kept as sent (any JSON value) and said in the gateway's words
# (`terms.py`) by properties, when read: a proposal holds dozens of them, and a pydantic
# validator per value cost ~140,000 instructions per 8-product proposal, a twentieth of a
# quote read, where reading each once costs a fraction of that.

# Insurers' own proposal numbers: InsurUp sends them as text or as a number (an integral one
# reads as the integer's digits).
NumberText = Annotated[str | None, Field(coerce_numbers_to_str=True)]


class PremiumWire(Wire):
    installment_number: int = Field(alias="installmentNumber")
    net_premium: float | None = Field(default=None, alias="netPremium")
    gross_premium: float | None = Field(default=None, alias="grossPremium")
    currency_code: Any = Field(default=None, alias="currency")
    insurer_proposal_number: NumberText = Field(
        default=None, alias="insuranceCompanyProposalNumber"
    )

    @property
    def currency(self) -> Currency | None:
        return terms.currency(self.currency_code)


class ProductWire(Wire):
    id: str
    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    insurance_company_name: str | None = Field(default=None, alias="insuranceCompanyName")
    insurance_company_logo: str | None = Field(default=None, alias="insuranceCompanyLogo")
    # InsurUp's id of the insurer's product (an integer; webhooks name products by it).
    insurer_product_id: int | None = Field(default=None, alias="productId")
    product_name: str | None = Field(default=None, alias="productName")
    product_type: Any = Field(default=None, alias="productType")
    product_state: Any = Field(default=None, alias="state")
    premiums: list[PremiumWire] = Field(default_factory=list)
    payment_options: Any = Field(default=None, alias="supportedPaymentOptions")
    policy_id: str | None = Field(default=None, alias="policyId")
    error_message: str | None = Field(default=None, alias="errorMessage")
    coverage_group_id: str | None = Field(default=None, alias="coverageGroupId")
    coverage_group_name: str | None = Field(default=None, alias="coverageGroupName")

    @property
    def kind(self) -> ProductKind:
        return terms.product_kind(self.product_type)

    @property
    def state(self) -> ProductState:
        return terms.product_state(self.product_state)

    @property
    def payment_methods(self) -> list[PaymentMethod]:
        return terms.payment_methods(self.payment_options)


class ProposalWire(Wire):
    proposal_id: str = Field(alias="proposalId")
    policy_start_date: date | None = Field(default=None, alias="policyStartDate")
    products: list[ProductWire] = Field(default_factory=list)

    def product(self, product_id: str) -> ProductWire | None:
        return next((p for p in self.products if p.id == product_id), None)


class CoverageLine(Wire):
    """One line of a product's kasko coverage: `{"$type": "DECIMAL", "value": 50000}` under
    its name, or a bare option string."""

    name: str
    kind: str
    value: float | str | None = None


def coverage_lines(coverage: object) -> list[CoverageLine]:
    """InsurUp's kasko coverage object as a flat list, in InsurUp's order."""
    lines: list[CoverageLine] = []
    for name, value in coverage.items() if isinstance(coverage, dict) else ():
        if name in ("$type", "productBranch"):
            continue
        if isinstance(value, dict) and isinstance(value.get("$type"), str):
            amount = value.get("value")
            lines.append(
                CoverageLine(
                    name=name,
                    kind=value["$type"],
                    value=amount if isinstance(amount, int | float | str) else None,
                )
            )
        elif isinstance(value, str):
            lines.append(CoverageLine(name=name, kind="OPTION", value=value))
    return lines


class PremiumDetailWire(Wire):
    insurer_proposal_number: NumberText = Field(
        default=None, alias="insuranceCompanyProposalNumber"
    )


class CoverageChoicesWire(Wire):
    """The coverage options one insurer product offers, passed on as InsurUp lists them."""

    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    product_id: int | None = Field(default=None, alias="productId")
    product_type: str | None = Field(default=None, alias="productType")
    coverage_choices: dict[str, JsonValue] = Field(default_factory=dict, alias="coverageChoices")


def proposal_body(
    *,
    customer_id: str,
    vehicle_id: str,
    coverage_group_ids: list[str],
    channel: Channel,
    agent_branch_id: str | None,
    policy_start_date: date | None,
) -> dict[str, Any]:
    """`POST /api/proposals` for kasko: `$type` first, the customer insures themself."""
    body: dict[str, Any] = {
        "$type": "kasko",
        "productBranch": terms.KASKO,
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
