"""A proposal as the customer compares it: purchasability, the payment methods the agency
takes, priced installments, and an order (sold first, then the cheapest priced products).

InsurUp's values arrive already in the gateway's words (`app/insurup/terms.py`); what is
decided here is the agency's sales rule, not InsurUp's vocabulary.
"""

from collections.abc import Collection
from operator import itemgetter
from typing import TypedDict

import orjson

from app.insurup.proposals import PremiumWire, ProductWire, ProposalWire
from app.quotes.schemas import (
    NotPurchasableReason,
    Premium,
    ProductRead,
    QuoteRead,
)
from app.vocabulary import PAYMENT_METHODS, PaymentMethod, ProductKind, ProductState

_ORDER: dict[ProductState, int] = {
    "purchased": 0,
    "purchasing": 1,
    "active": 2,
    "waiting": 3,
    "failed": 4,
}

_INSTALLMENT = itemgetter("installmentNumber")


# The answer's fields as plain values under the names the frontend reads (the models'
# aliases), checked by mypy against these: a whole quote is validated in one call (pydantic
# building the nested models itself), or encoded as it is for the hot read path.
class _PremiumFields(TypedDict):
    installmentNumber: int
    grossPremium: float
    netPremium: float | None
    currency: str


class _InsurerFields(TypedDict):
    id: int | None
    name: str
    logoUrl: str | None


class _GroupFields(TypedDict):
    id: str
    name: str


class _ProductFields(TypedDict):
    productId: str
    insurer: _InsurerFields
    productName: str | None
    coverageGroup: _GroupFields | None
    state: ProductState
    purchasable: bool
    notPurchasableReason: NotPurchasableReason | None
    paymentMethods: list[PaymentMethod]
    premiums: list[_PremiumFields]
    lowestGrossPremium: float | None
    errorMessage: str | None


class _MoneyFields(TypedDict):
    amount: float
    currency: str


class _QuoteFields(TypedDict):
    quoteId: str
    state: ProductState
    complete: bool
    lowestPremium: _MoneyFields | None
    products: list[_ProductFields]


def _premium_fields(wire: PremiumWire) -> _PremiumFields | None:
    """A price the customer can be shown: one with its amount and currency."""
    currency = wire.currency
    if currency is None or wire.gross_premium is None:
        return None
    return {
        "installmentNumber": wire.installment_number,
        "grossPremium": wire.gross_premium,
        "netPremium": wire.net_premium,
        "currency": currency,
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
            if lowest is None or fields["grossPremium"] < lowest:
                lowest = fields["grossPremium"]
        premiums.sort(key=_INSTALLMENT)
        # Each term is worked out (and an unknown one logged) when read: each read once.
        state, kind = wire.state, wire.kind
        reason = self._not_purchasable(
            wire, state=state, kind=kind, methods=bool(methods), priced=bool(premiums)
        )
        return {
            "productId": wire.id,
            "insurer": {
                "id": wire.insurance_company_id,
                "name": wire.insurance_company_name or "",
                "logoUrl": wire.insurance_company_logo,
            },
            "productName": wire.product_name,
            "coverageGroup": (
                {"id": wire.coverage_group_id, "name": wire.coverage_group_name or ""}
                if wire.coverage_group_id
                else None
            ),
            "state": state,
            "purchasable": reason is None,
            "notPurchasableReason": reason,
            "paymentMethods": methods,
            "premiums": premiums,
            "lowestGrossPremium": lowest,
            "errorMessage": wire.error_message if state == "failed" else None,
        }

    def _not_purchasable(
        self,
        wire: ProductWire,
        *,
        state: ProductState,
        kind: ProductKind,
        methods: bool,
        priced: bool,
    ) -> NotPurchasableReason | None:
        if state in ("purchased", "purchasing"):
            return "sold"
        if state == "failed":
            return "failed"
        if kind != "web_service":
            # Robot products have no purchase request at InsurUp: never a pay button.
            return "robot"
        if state != "active" or not priced:
            return "not_priced"
        if not methods or (self._online and wire.insurance_company_id not in self._online):
            return "not_sold_online"
        return None

    def quote(self, wire: ProposalWire) -> QuoteRead:
        return QuoteRead.model_validate(self._quote(wire))

    def quote_json(self, wire: ProposalWire) -> bytes:
        """The quote as `quote` gives it, encoded as FastAPI would encode it (the same bytes, a
        test compares them), without validating again what was just built from validated
        models: for the hot read path."""
        return orjson.dumps(self._quote(wire))

    def _quote(self, wire: ProposalWire) -> _QuoteFields:
        products = [self._product(p) for p in wire.products]
        products.sort(
            key=lambda p: (
                _ORDER[p["state"]],
                p["lowestGrossPremium"] or float("inf"),
                p["productId"],
            )
        )
        priced = [p for p in products if p["state"] == "active" and p["lowestGrossPremium"]]
        cheapest = min(priced, key=lambda p: p["lowestGrossPremium"] or 0.0, default=None)
        lowest: _MoneyFields | None = (
            {
                "amount": cheapest["lowestGrossPremium"] or 0.0,
                "currency": cheapest["premiums"][0]["currency"],
            }
            if cheapest
            else None
        )
        states = {p["state"] for p in products}
        return {
            "quoteId": wire.proposal_id,
            "state": _quote_state(states, any_products=bool(products)),
            # An empty list right after creation means pricing has not started, not that it
            # ended.
            "complete": bool(products) and "waiting" not in states,
            "lowestPremium": lowest,
            "products": products,
        }


def _quote_state(states: set[ProductState], *, any_products: bool) -> ProductState:
    """InsurUp's proposal state is not documented beyond its names; products decide."""
    for state in _LEADING:
        if state in states:
            return state
    return "failed" if any_products else "waiting"
