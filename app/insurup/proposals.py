"""InsurUp's proposal read model (`GET /api/proposals/{id}`), its coverage and premium detail,
and the bodies we send about proposals. Enum values arrive in the gateway's own words
(`terms.py`); an unknown value never breaks parsing."""

from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, JsonValue

from app.insurup import terms
from app.insurup.models import Wire
from app.vocabulary import Channel, Currency, PaymentMethod, ProductKind, ProductState

StateTerm = Annotated[ProductState, BeforeValidator(terms.product_state)]
KindTerm = Annotated[ProductKind, BeforeValidator(terms.product_kind)]
MethodsTerm = Annotated[list[PaymentMethod], BeforeValidator(terms.payment_methods)]
CurrencyTerm = Annotated[Currency | None, BeforeValidator(terms.currency)]


def _as_text(value: object) -> object:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


# Insurers' own proposal numbers: InsurUp sends them as text or as a number.
NumberText = Annotated[str | None, BeforeValidator(_as_text)]


class PremiumWire(Wire):
    installment_number: int = Field(alias="installmentNumber")
    net_premium: float | None = Field(default=None, alias="netPremium")
    gross_premium: float | None = Field(default=None, alias="grossPremium")
    currency: CurrencyTerm = None
    insurer_proposal_number: NumberText = Field(
        default=None, alias="insuranceCompanyProposalNumber"
    )


class ProductWire(Wire):
    id: str
    insurance_company_id: int | None = Field(default=None, alias="insuranceCompanyId")
    insurance_company_name: str | None = Field(default=None, alias="insuranceCompanyName")
    insurance_company_logo: str | None = Field(default=None, alias="insuranceCompanyLogo")
    # InsurUp's id of the insurer's product (an integer; webhooks name products by it).
    insurer_product_id: int | None = Field(default=None, alias="productId")
    product_name: str | None = Field(default=None, alias="productName")
    kind: KindTerm = Field(default=None, alias="productType", validate_default=True)
    state: StateTerm = Field(default=None, validate_default=True)
    premiums: list[PremiumWire] = Field(default_factory=list)
    payment_methods: MethodsTerm = Field(default_factory=list, alias="supportedPaymentOptions")
    policy_id: str | None = Field(default=None, alias="policyId")
    error_message: str | None = Field(default=None, alias="errorMessage")
    coverage_group_id: str | None = Field(default=None, alias="coverageGroupId")
    coverage_group_name: str | None = Field(default=None, alias="coverageGroupName")


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
