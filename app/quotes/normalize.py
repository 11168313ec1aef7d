"""A proposal as the customer compares it: purchasability, the payment methods the agency
takes, priced installments, and an order (sold first, then the cheapest priced products).

InsurUp's values arrive already in the gateway's words (`app/insurup/terms.py`); what is
decided here is the agency's sales rule, not InsurUp's vocabulary.
"""

from collections.abc import Collection
from operator import itemgetter
from typing import TypedDict

from app.insurup.proposals import PremiumWire, ProductWire, ProposalWire
from app.quotes.schemas import (
    NotPurchasableReason,
    Premium,
    ProductRead,
    QuoteRead,
)
from app.vocabulary import PAYMENT_METHODS, PaymentMethod, ProductState

_ORDER: dict[ProductState, int] = {
    "purchased": 0,
    "purchasing": 1,
    "active": 2,
    "waiting": 3,
    "failed": 4,
}

_INSTALLMENT = itemgetter("installment_number")


# The answer's fields as plain values, checked by mypy against these (the models' names):
# a whole quote is validated in one call, pydantic building the nested models itself.
class _PremiumFields(TypedDict):
    installment_number: int
    gross_premium: float
    net_premium: float | None
    currency: str


class _InsurerFields(TypedDict):
    id: int | None
    name: str
    logo_url: str | None


class _GroupFields(TypedDict):
    id: str
    name: str


class _ProductFields(TypedDict):
    product_id: str
    insurer: _InsurerFields
    product_name: str | None
    coverage_group: _GroupFields | None
    state: ProductState
    purchasable: bool
    not_purchasable_reason: NotPurchasableReason | None
    payment_methods: list[PaymentMethod]
    premiums: list[_PremiumFields]
    lowest_gross_premium: float | None
    error_message: str | None


class _MoneyFields(TypedDict):
    amount: float
    currency: str


def _premium_fields(wire: PremiumWire) -> _PremiumFields | None:
    """A price the customer can be shown: one with its amount and currency."""
    if wire.currency is None or wire.gross_premium is None:
        return None
    return {
        "installment_number": wire.installment_number,
        "gross_premium": wire.gross_premium,
        "net_premium": wire.net_premium,
        "currency": wire.currency,
    }


# A quote is in the most advanced state any of its products reached.
_LEADING: tuple[ProductState, ...] = ("purchased", "purchasing", "active", "waiting")


class QuoteNormalizer:
    def __init__(
        self, *, enabled_methods: Collection[str], online_insurers: Collection[int] = ()
    ) -> None:
        self._enabled = frozenset(enabled_methods)
        # Insurers the agency may sell through on its own site (distance-sales permission,
        # per insurer); empty: all of them.
        self._online = frozenset(online_insurers)

    def methods(self, offered: list[PaymentMethod]) -> list[PaymentMethod]:
        """The methods the product offers and the agency takes, in order of preference."""
        return [m for m in PAYMENT_METHODS if m in offered and m in self._enabled]

    @staticmethod
    def premium(wire: PremiumWire) -> Premium | None:
        fields = _premium_fields(wire)
        return None if fields is None else Premium.model_validate(fields)

    def product(self, wire: ProductWire) -> ProductRead:
        return ProductRead.model_validate(self._product(wire))

    def _product(self, wire: ProductWire) -> _ProductFields:
        """A product's fields as plain values: a whole quote is then validated in one call
        (pydantic builds the nested models itself, a fraction of the cost of one call each)."""
        methods = self.methods(wire.payment_methods)
        premiums: list[_PremiumFields] = []
        lowest: float | None = None
        for w in wire.premiums:
            fields = _premium_fields(w)
            if fields is None:
                continue
            premiums.append(fields)
            if lowest is None or fields["gross_premium"] < lowest:
                lowest = fields["gross_premium"]
        premiums.sort(key=_INSTALLMENT)
        reason = self._not_purchasable(wire, methods=bool(methods), priced=bool(premiums))
        return {
            "product_id": wire.id,
            "insurer": {
                "id": wire.insurance_company_id,
                "name": wire.insurance_company_name or "",
                "logo_url": wire.insurance_company_logo,
            },
            "product_name": wire.product_name,
            "coverage_group": (
                {"id": wire.coverage_group_id, "name": wire.coverage_group_name or ""}
                if wire.coverage_group_id
                else None
            ),
            "state": wire.state,
            "purchasable": reason is None,
            "not_purchasable_reason": reason,
            "payment_methods": methods,
            "premiums": premiums,
            "lowest_gross_premium": lowest,
            "error_message": wire.error_message if wire.state == "failed" else None,
        }

    def _not_purchasable(
        self, wire: ProductWire, *, methods: bool, priced: bool
    ) -> NotPurchasableReason | None:
        if wire.state in ("purchased", "purchasing"):
            return "sold"
        if wire.state == "failed":
            return "failed"
        if wire.kind != "web_service":
            # Robot products have no purchase request at InsurUp: never a pay button.
            return "robot"
        if wire.state != "active" or not priced:
            return "not_priced"
        if not methods or (self._online and wire.insurance_company_id not in self._online):
            return "not_sold_online"
        return None

    def quote(self, wire: ProposalWire) -> QuoteRead:
        products = [self._product(p) for p in wire.products]
        products.sort(
            key=lambda p: (
                _ORDER[p["state"]],
                p["lowest_gross_premium"] or float("inf"),
                p["product_id"],
            )
        )
        priced = [p for p in products if p["state"] == "active" and p["lowest_gross_premium"]]
        cheapest = min(priced, key=lambda p: p["lowest_gross_premium"] or 0.0, default=None)
        lowest: _MoneyFields | None = (
            {
                "amount": cheapest["lowest_gross_premium"] or 0.0,
                "currency": cheapest["premiums"][0]["currency"],
            }
            if cheapest
            else None
        )
        states = {p["state"] for p in products}
        return QuoteRead.model_validate(
            {
                "quote_id": wire.proposal_id,
                "state": _quote_state(states, any_products=bool(products)),
                # An empty list right after creation means pricing has not started, not that
                # it ended.
                "complete": bool(products) and "waiting" not in states,
                "lowest_premium": lowest,
                "products": products,
            }
        )


def _quote_state(states: set[ProductState], *, any_products: bool) -> ProductState:
    """InsurUp's proposal state is not documented beyond its names; products decide."""
    for state in _LEADING:
        if state in states:
            return state
    return "failed" if any_products else "waiting"
