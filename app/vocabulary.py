"""The gateway's own words for what it sells and how: the API speaks them, the features
compare them, and `app/insurup/` alone translates InsurUp's enums into them."""

from typing import Final, Literal, get_args

# A quote's product, as the frontend sees it.
ProductState = Literal["waiting", "active", "failed", "purchasing", "purchased"]
# Web-service products are sold online; robot products are priced by a person and never are.
ProductKind = Literal["web_service", "robot", "unknown"]

# How a customer pays; the tuple's order is the preference when the customer does not choose.
PaymentMethod = Literal["3d-secure", "third-party-3d-secure", "insurance-company-redirect"]
PAYMENT_METHODS: Final[tuple[PaymentMethod, ...]] = get_args(PaymentMethod)
# Card data goes through the gateway for these; the others collect it on the insurer's page.
CARD_METHODS: Final[frozenset[PaymentMethod]] = frozenset({"3d-secure", "third-party-3d-secure"})

# ISO 4217 codes of the currencies InsurUp prices in.
Currency = Literal["TRY", "USD", "EUR"]

CustomerKind = Literal["individual", "company", "foreign"]
# What a customer agrees to at sign-in: KVKK (processing of personal data, required) and ETK
# (commercial electronic messages, optional).
ConsentType = Literal["KVKK", "ETK"]
# The CRM channel a sale opportunity and a proposal are recorded under (an operator setting).
Channel = Literal["WEBSITE", "MOBILE_APP", "CALL_CENTER", "CHATBOT", "MANUAL"]
FuelType = Literal["GASOLINE", "DIESEL", "LPG", "ELECTRIC", "LPG_GASOLINE", "HYBRID"]
