"""Quotes as the frontend sees them: products normalised, sorted, in TRY, without commission."""

from datetime import date
from typing import Any, Literal

from pydantic import Field

from app.http.params import ID_PATTERN
from app.http.schemas import ApiModel, Insurer
from app.vocabulary import PaymentMethod, ProductState

NotPurchasableReason = Literal["robot", "not_priced", "failed", "not_sold_online", "sold"]


class QuoteCreate(ApiModel):
    vehicle_id: str = Field(pattern=ID_PATTERN, description="From `GET /api/v1/vehicles`")
    coverage_group_ids: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=3,
        description="Packages from `GET /api/v1/coverage-groups`; default: all of them",
    )
    policy_start_date: date | None = Field(
        default=None, description="YYYY-MM-DD, today or later; default today"
    )


class QuoteCreated(ApiModel):
    quote_id: str


class Money(ApiModel):
    amount: float
    currency: str = Field(examples=["TRY"])


class CoverageGroup(ApiModel):
    id: str
    name: str


class Premium(ApiModel):
    installment_number: int
    gross_premium: float
    net_premium: float | None
    currency: str


class ProductRead(ApiModel):
    product_id: str
    insurer: Insurer
    product_name: str | None
    coverage_group: CoverageGroup | None
    state: ProductState
    purchasable: bool = Field(
        description="A web-service product, priced, with a payment method the agency takes, "
        "from an insurer the agency sells online"
    )
    not_purchasable_reason: NotPurchasableReason | None = Field(
        default=None,
        description="Why there is no pay button: `robot` (priced by a person: offer a call-back),"
        " `not_priced` (no price yet), `failed`, `not_sold_online` (the agency sells it only "
        "through an agent), `sold` (a payment is under way or done)",
    )
    payment_methods: list[PaymentMethod]
    premiums: list[Premium]
    lowest_gross_premium: float | None
    error_message: str | None


class QuoteRead(ApiModel):
    quote_id: str
    state: ProductState
    complete: bool = Field(description="True when no product is still waiting for a price")
    lowest_premium: Money | None
    products: list[ProductRead]


class CoverageItem(ApiModel):
    name: str = Field(examples=["immLimitiAyrimsiz"])
    kind: str = Field(examples=["DECIMAL", "INCLUDED", "LIMITLESS"])
    value: float | str | None = None


class ProductCoverage(ApiModel):
    product_id: str
    items: list[CoverageItem]


class InstallmentRead(ApiModel):
    installment_number: int
    gross_premium: float
    net_premium: float | None
    currency: str
    insurer_proposal_number: str | None


class CoverageChoices(ApiModel):
    """The coverage options one insurer product offers (InsurUp's lists, passed through)."""

    insurance_company_id: int | None
    product_id: int | None
    product_type: str | None
    coverage_choices: dict[str, Any]


class CoverageGroupRead(ApiModel):
    id: str
    name: str
