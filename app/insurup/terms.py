"""InsurUp's enum values in the gateway's own words (`app.vocabulary`), in one table each.

An unknown value never breaks parsing: it maps to a harmless term (an unknown product state
is `failed`: nothing to buy, nothing to wait for; an unknown payment option or currency is left
out) and is logged once per process, so operators learn of it.
"""

import logging
from typing import Final

from app.vocabulary import Currency, PaymentMethod, ProductKind, ProductState

log = logging.getLogger("app.insurup")

_PRODUCT_STATES: Final[dict[str, ProductState]] = {
    "WAITING": "waiting",
    "ACTIVE": "active",
    "FAILED": "failed",
    "PURCHASING": "purchasing",
    "PURCHASED": "purchased",
}
_PRODUCT_KINDS: Final[dict[str, ProductKind]] = {"WEB_SERVICE": "web_service", "ROBOT": "robot"}
_PAYMENT_OPTIONS: Final[dict[str, PaymentMethod]] = {
    "ASYNC_3D_SECURE": "3d-secure",
    "ASYNC_THIRD_PARTY_3D_SECURE": "third-party-3d-secure",
    "ASYNC_INSURANCE_COMPANY_REDIRECT": "insurance-company-redirect",
}
# Synchronous options exist but are not for web sales: known, so not reported.
_NOT_FOR_WEB: Final = frozenset({"SYNC_CREDIT_CARD", "SYNC_OPEN_ACCOUNT", "UNKNOWN"})
_CURRENCIES: Final[dict[str, Currency]] = {
    "TURKISH_LIRA": "TRY",
    "UNITED_STATES_DOLLAR": "USD",
    "EURO": "EUR",
}
# The `$type` of a `purchase/async` body for each way of paying.
PURCHASE_TYPES: Final[dict[PaymentMethod, str]] = {
    "3d-secure": "3d-secure",
    "third-party-3d-secure": "third-party-3d-secure",
    "insurance-company-redirect": "insurance-company-redirect",
}
KASKO = "KASKO"
SALE_OPPORTUNITY = "SALE_OPPORTUNITY"
# DELAYED is a postponed open case; counting it as open avoids a duplicate lead.
OPEN_CASE_STATUSES: Final = frozenset({"OPEN", "DELAYED"})

_reported: set[tuple[str, str]] = set()


def _unknown(kind: str, value: object) -> None:
    marker = (kind, str(value))
    if marker not in _reported:
        _reported.add(marker)
        log.warning("unknown value from InsurUp", extra={"kind": kind, "value": str(value)})


def product_state(value: object) -> ProductState:
    state = _PRODUCT_STATES.get(value) if isinstance(value, str) else None
    if state is None:
        _unknown("product_state", value)
        return "failed"
    return state


def product_kind(value: object) -> ProductKind:
    kind = _PRODUCT_KINDS.get(value) if isinstance(value, str) else None
    if kind is None:
        _unknown("product_type", value)
        return "unknown"
    return kind


def payment_methods(options: object) -> list[PaymentMethod]:
    """The web-sale methods among InsurUp's options, each once, in InsurUp's order."""
    found: list[PaymentMethod] = []
    for option in options if isinstance(options, list) else []:
        method = _PAYMENT_OPTIONS.get(option) if isinstance(option, str) else None
        if method is None:
            if option not in _NOT_FOR_WEB:
                _unknown("payment_option", option)
        elif method not in found:
            found.append(method)
    return found


def currency(value: object) -> Currency | None:
    code = _CURRENCIES.get(value) if isinstance(value, str) else None
    if code is None and value is not None:
        _unknown("currency", value)
    return code
