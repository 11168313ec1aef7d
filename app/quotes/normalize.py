"""InsurUp's proposal -> the quote view: states, purchasability, payment methods, TRY, order.

Unknown enum values from InsurUp keep the view working: an unknown product state counts as
`failed` (nothing to buy, nothing to wait for), an unknown payment option or currency is
left out; each is logged once per process so operators learn of it.
"""

import logging
from typing import get_args

from app.insurup.proposals import PremiumWire, ProductWire, ProposalWire
from app.quotes.schemas import (
    CoverageGroup,
    Insurer,
    Money,
    PaymentMethodName,
    Premium,
    ProductRead,
    ProductState,
    QuoteRead,
)

log = logging.getLogger("app.quotes")

_STATES: dict[str, ProductState] = {
    "WAITING": "waiting",
    "ACTIVE": "active",
    "FAILED": "failed",
    "PURCHASING": "purchasing",
    "PURCHASED": "purchased",
}
PAYMENT_METHODS: dict[str, PaymentMethodName] = {
    "ASYNC_3D_SECURE": "3d-secure",
    "ASYNC_THIRD_PARTY_3D_SECURE": "third-party-3d-secure",
    "ASYNC_INSURANCE_COMPANY_REDIRECT": "insurance-company-redirect",
}
# Sync options exist but are not for web sales; known, so not "unknown".
_SYNC_OPTIONS = frozenset({"SYNC_CREDIT_CARD", "SYNC_OPEN_ACCOUNT", "UNKNOWN"})
CURRENCIES = {"TURKISH_LIRA": "TRY", "UNITED_STATES_DOLLAR": "USD", "EURO": "EUR"}
# Order of preference when the customer does not choose a method.
METHOD_PREFERENCE: tuple[PaymentMethodName, ...] = get_args(PaymentMethodName)
_ORDER: dict[ProductState, int] = {
    "purchased": 0,
    "purchasing": 1,
    "active": 2,
    "waiting": 3,
    "failed": 4,
}


class QuoteNormalizer:
    def __init__(self, *, enabled_methods: list[str]) -> None:
        self._enabled = frozenset(enabled_methods)
        self._reported: set[tuple[str, str]] = set()

    def _unknown(self, kind: str, value: str | None) -> None:
        marker = (kind, str(value))
        if marker not in self._reported:
            self._reported.add(marker)
            log.warning("unknown value from InsurUp", extra={"kind": kind, "value": str(value)})

    def state(self, value: str | None) -> ProductState:
        state = _STATES.get(value or "")
        if state is None:
            self._unknown("product_state", value)
            return "failed"
        return state

    def methods(self, options: list[str]) -> list[PaymentMethodName]:
        found: set[PaymentMethodName] = set()
        for option in options:
            method = PAYMENT_METHODS.get(option)
            if method is None:
                if option not in _SYNC_OPTIONS:
                    self._unknown("payment_option", option)
            elif method in self._enabled:
                found.add(method)
        return [m for m in METHOD_PREFERENCE if m in found]

    def premium(self, wire: PremiumWire) -> Premium | None:
        currency = CURRENCIES.get(wire.currency or "")
        if currency is None or wire.gross_premium is None:
            self._unknown("currency", wire.currency)
            return None
        return Premium(
            installment_number=wire.installment_number,
            gross_premium=wire.gross_premium,
            net_premium=wire.net_premium,
            currency=currency,
        )

    def product(self, wire: ProductWire) -> ProductRead:
        state = self.state(wire.state)
        methods = self.methods(wire.supported_payment_options)
        premiums = [p for p in (self.premium(w) for w in wire.premiums) if p is not None]
        premiums.sort(key=lambda p: p.installment_number)
        if wire.product_type not in ("WEB_SERVICE", "ROBOT"):
            self._unknown("product_type", wire.product_type)
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
            state=state,
            # Robot products have no purchase request at InsurUp: never a pay button.
            purchasable=(
                wire.product_type == "WEB_SERVICE"
                and state == "active"
                and bool(methods)
                and bool(premiums)
            ),
            payment_methods=methods,
            premiums=premiums,
            lowest_gross_premium=min((p.gross_premium for p in premiums), default=None),
            error_message=wire.error_message if state == "failed" else None,
        )

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
            state=self._quote_state(products),
            # An empty list right after creation means pricing has not started, not that it ended.
            complete=bool(products) and all(p.state != "waiting" for p in products),
            lowest_premium=lowest,
            products=products,
        )

    @staticmethod
    def _quote_state(products: list[ProductRead]) -> ProductState:
        """InsurUp's proposal state is not documented beyond its names; products decide."""
        states = {p.state for p in products}
        for state in ("purchased", "purchasing", "active", "waiting"):
            if state in states:
                return state
        return "failed" if products else "waiting"
