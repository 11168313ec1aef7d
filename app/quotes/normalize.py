"""A proposal as the customer compares it: purchasability, the payment methods the agency
takes, priced installments, and an order (sold first, then the cheapest priced products).

InsurUp's values arrive already in the gateway's words (`app/insurup/terms.py`); what is
decided here is the agency's sales rule, not InsurUp's vocabulary.
"""

from collections.abc import Collection

from app.http.schemas import Insurer
from app.insurup.proposals import PremiumWire, ProductWire, ProposalWire
from app.quotes.schemas import (
    CoverageGroup,
    Money,
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
        if wire.currency is None or wire.gross_premium is None:
            return None
        return Premium(
            installment_number=wire.installment_number,
            gross_premium=wire.gross_premium,
            net_premium=wire.net_premium,
            currency=wire.currency,
        )

    def product(self, wire: ProductWire) -> ProductRead:
        methods = self.methods(wire.payment_methods)
        premiums = [p for p in (self.premium(w) for w in wire.premiums) if p is not None]
        premiums.sort(key=lambda p: p.installment_number)
        reason = self._not_purchasable(wire, methods=bool(methods), priced=bool(premiums))
        group = (
            CoverageGroup(id=wire.coverage_group_id, name=wire.coverage_group_name or "")
            if wire.coverage_group_id
            else None
        )
        return ProductRead(
            product_id=wire.id,
            insurer=Insurer(
                id=wire.insurance_company_id,
                name=wire.insurance_company_name or "",
                logo_url=wire.insurance_company_logo,
            ),
            product_name=wire.product_name,
            coverage_group=group,
            state=wire.state,
            purchasable=reason is None,
            not_purchasable_reason=reason,
            payment_methods=methods,
            premiums=premiums,
            lowest_gross_premium=min((p.gross_premium for p in premiums), default=None),
            error_message=wire.error_message if wire.state == "failed" else None,
        )

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
        products = [self.product(p) for p in wire.products]
        products.sort(
            key=lambda p: (_ORDER[p.state], p.lowest_gross_premium or float("inf"), p.product_id)
        )
        priced = [p for p in products if p.state == "active" and p.lowest_gross_premium]
        cheapest = min(priced, key=lambda p: p.lowest_gross_premium or 0.0, default=None)
        lowest = (
            Money(
                amount=cheapest.lowest_gross_premium or 0.0, currency=cheapest.premiums[0].currency
            )
            if cheapest
            else None
        )
        return QuoteRead(
            quote_id=wire.proposal_id,
            state=_quote_state(products),
            # An empty list right after creation means pricing has not started, not that it ended.
            complete=bool(products) and all(p.state != "waiting" for p in products),
            lowest_premium=lowest,
            products=products,
        )


def _quote_state(products: list[ProductRead]) -> ProductState:
    """InsurUp's proposal state is not documented beyond its names; products decide."""
    states = {p.state for p in products}
    for state in _LEADING:
        if state in states:
            return state
    return "failed" if products else "waiting"
