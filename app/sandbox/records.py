"""Records of the sales slices: vehicles, proposals and their products, payment sessions,
policies. Plain mutable dataclasses kept in `SandboxState`; transitions live in
`lifecycle.py`, wire shapes in the router modules."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .catalogue import Brand, Insurer, ModelType
from .enums import (
    AsyncPaymentType,
    Channel,
    ProductType,
    ProposalProductState,
    VehicleUtilizationStyle,
)

JsonObject = dict[str, Any]


@dataclass
class Vehicle:
    id: str
    customer_id: str
    plate_city: int
    plate_code: str
    """Empty for an unplated vehicle."""
    utilization_style: VehicleUtilizationStyle
    created_at: float
    brand: Brand | None = None
    model_type: ModelType | None = None
    model_year: int | None = None
    fuel: JsonObject | None = None
    engine: str | None = None
    chassis: str | None = None
    registration_date: str | None = None
    seat_number: int | None = None
    document_serial: JsonObject | None = None
    accessories: list[JsonObject] = field(default_factory=list)
    kasko_old_policy: JsonObject | None = None
    trafik_old_policy: JsonObject | None = None
    loss_payee_clause: JsonObject | None = None

    @property
    def has_plate(self) -> bool:
        return bool(self.plate_code)

    def plate_json(self) -> JsonObject:
        return {"city": self.plate_city, "code": self.plate_code or None}

    def model_json(self) -> JsonObject | None:
        if self.brand is None and self.model_type is None and self.model_year is None:
            return None
        return {
            "brand": None if self.brand is None else self.brand.to_json(),
            "year": self.model_year,
            "type": None if self.model_type is None else self.model_type.to_json(),
        }

    def market_value(self) -> int:
        if self.model_type is None:
            return 1_000_000
        return self.model_type.market_value(self.model_year or self.model_type.first_year)


@dataclass(frozen=True)
class Premium:
    installment_number: int
    net_premium: float
    gross_premium: float
    commission: float
    proposal_number: str

    def to_json(self) -> JsonObject:
        return {
            "installmentNumber": self.installment_number,
            "netPremium": self.net_premium,
            "grossPremium": self.gross_premium,
            "commission": self.commission,
            "exchangeRate": 1,
            "currency": "TURKISH_LIRA",
            "insuranceCompanyProposalNumber": self.proposal_number,
        }


class PricingOutcome(StrEnum):
    ACTIVE = "ACTIVE"
    FAILED = "FAILED"


@dataclass
class ProposalProduct:
    id: str
    proposal_id: str
    insurer: Insurer
    coverage_group_id: str | None
    coverage_group_name: str | None
    coverage: JsonObject
    """The requested (initial) kasko coverage of the group."""
    premiums: list[Premium]
    """Computed up front, shown once the product is priced."""
    state: ProposalProductState
    priced_at: float
    """When pricing completes (lazily applied by `lifecycle.settle`)."""
    outcome: PricingOutcome
    failure_message: str | None
    has_undamaged_discount: bool
    undamaged_discount_rate: float | None
    error_message: str | None = None
    policy_id: str | None = None
    payment_session_id: str | None = None
    retries: int = 0

    @property
    def product_type(self) -> ProductType:
        return self.insurer.product_type

    @property
    def priced(self) -> bool:
        return self.state in (
            ProposalProductState.ACTIVE,
            ProposalProductState.PURCHASING,
            ProposalProductState.PURCHASED,
        )

    def premium(self, installment_number: int) -> Premium | None:
        if not self.priced:
            return None
        return next((p for p in self.premiums if p.installment_number == installment_number), None)


@dataclass
class Proposal:
    id: str
    insurer_customer_id: str
    insured_customer_id: str
    vehicle_id: str
    channel: Channel
    created_at: float
    coverage_groups: list[tuple[str | None, str | None]]
    snapshot: JsonObject
    products: list[ProposalProduct]
    agent_branch_id: str | None = None
    policy_start_date: str | None = None


class PaymentDecision(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"


@dataclass
class PaymentSession:
    """One `purchase/async` attempt and its fake bank / insurer page.

    Holds no card data beyond the last four digits and whether the number is the
    declining test card (no full number, CVC, expiry or holder name).
    """

    id: str
    customer_id: str
    proposal_id: str
    product_id: str
    method: AsyncPaymentType
    installment_number: int
    callback_url: str
    created_at: float
    expires_at: float
    card_last4: str | None = None
    card_declines: bool = False
    decision: PaymentDecision | None = None
    decided_at: float | None = None
    settles_at: float | None = None
    settled: bool = False
    failure_reason: str | None = None
    policy_id: str | None = None
    pa_req: str | None = None
    """`purchase_form_post`: the opaque `PaReq` the page must be POSTed with (None: the page
    is reached with a GET)."""


@dataclass
class Policy:
    id: str
    number: str
    customer_id: str
    insured_customer_id: str
    proposal_id: str
    product_id: str
    insurer: Insurer
    installment_number: int
    premium: Premium
    payment_method: AsyncPaymentType
    channel: Channel
    created_at: float
    start_date: str
    end_date: str
    snapshot: JsonObject
    coverage: JsonObject
    agent_branch_id: str | None = None
