"""Contract-level helpers for the sales tests: a logged-in customer, the demo vehicle, a
priced proposal, purchase bodies. Everything goes over HTTP."""

from dataclasses import dataclass
from typing import Any

import httpx

from .conftest import DEMO_TCKN, Sandbox, bearer

DEMO_PLATE = {"city": 34, "code": "ABC123"}
DEMO_SERIAL = {"code": "AB", "number": "123456"}
WIDE_GROUP = "65f1c0ffee0ddba11ca5e0aa"
NARROW_GROUP = "65f1c0ffee0ddba11ca5e0bb"
PRICING_DONE = 4.0
"""The default `pricing_delay_seconds` upper bound: every product is final by then."""
APPROVING_CARD = "4242424242424242"
DECLINING_CARD = "4000000000000002"
CALLBACK = "https://gateway.example/payments/callback/tok123?lang=tr"


@dataclass
class Shopper:
    sandbox: Sandbox
    customer_id: str
    headers: dict[str, str]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.sandbox.client

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.headers, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.client.post(path, json=json, headers=self.headers, **kwargs)

    async def lookup(
        self, plate: dict[str, Any], serial: dict[str, str] | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"customerId": self.customer_id, "plate": plate}
        if serial is not None:
            body["documentSerial"] = serial
        return await self.post(f"/api/customers/{self.customer_id}/vehicles/external-lookup", body)

    async def create_vehicle(self, body: dict[str, Any]) -> httpx.Response:
        return await self.post(f"/api/customers/{self.customer_id}/vehicles", body)

    async def add_vehicle(
        self, plate: dict[str, Any] | None = None, serial: dict[str, str] | None = None
    ) -> str:
        """Look the plate up and create the vehicle from the facts; the vehicle id."""
        lookup = await self.lookup(plate or DEMO_PLATE, serial or DEMO_SERIAL)
        assert lookup.status_code == 200, lookup.text
        created = await self.create_vehicle(vehicle_body(self.customer_id, lookup.json()))
        assert created.status_code == 200, created.text
        vehicle_id: str = created.json()["id"]
        return vehicle_id

    async def create_proposal(self, vehicle_id: str, **overrides: Any) -> httpx.Response:
        return await self.post(
            "/api/proposals", proposal_body(self.customer_id, vehicle_id, **overrides)
        )

    async def proposal(self, proposal_id: str) -> dict[str, Any]:
        response = await self.get(f"/api/proposals/{proposal_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def priced_proposal(self, **overrides: Any) -> dict[str, Any]:
        """A new proposal for a new demo vehicle, read after every product is final."""
        created = await self.create_proposal(await self.add_vehicle(), **overrides)
        assert created.status_code == 200, created.text
        self.sandbox.clock.advance(PRICING_DONE)
        return await self.proposal(created.json()["proposalId"])

    async def purchase(
        self, proposal: dict[str, Any], product: dict[str, Any], **overrides: Any
    ) -> httpx.Response:
        body = purchase_body(proposal["proposalId"], product["id"], **overrides)
        return await self.post(
            f"/api/proposals/{proposal['proposalId']}/products/{product['id']}/purchase/async", body
        )


async def shopper(sandbox: Sandbox, identity: str = DEMO_TCKN) -> Shopper:
    tokens = await sandbox.tokens(identity)
    return Shopper(sandbox, tokens["customerId"], bearer(tokens["accessToken"]))


def vehicle_body(customer_id: str, facts: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The create body (2.3) mapped from an external-lookup result (2.4)."""
    body: dict[str, Any] = {
        "customerId": customer_id,
        "plate": facts["plate"],
        "modelYear": facts["model"]["year"],
        "brandReference": facts["model"]["brand"]["value"],
        "modelTypeReference": facts["model"]["type"]["value"],
        "utilizationStyle": facts["utilizationStyle"],
        "fuel": {"type": facts["fuelType"], "customLpg": False, "customLpgPrice": None},
        "engine": facts["engine"],
        "chassis": facts["chassis"],
        "documentSerial": facts["documentSerial"],
        "registrationDate": facts["registrationDate"],
        "seatNumber": facts["seatNumber"],
        "accessories": [],
    }
    body.update(overrides)
    return body


def proposal_body(customer_id: str, vehicle_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "$type": "kasko",
        "productBranch": "KASKO",
        "insurerCustomerId": customer_id,
        "insuredCustomerId": customer_id,
        "vehicleId": vehicle_id,
        "coverageGroupIds": [WIDE_GROUP],
        "channel": "WEBSITE",
    }
    body.update(overrides)
    return body


def card(number: object = APPROVING_CARD, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identityNumber": None,
        "number": number,
        "cvc": "123",
        "expiryMonth": "12",
        "expiryYear": "2030",
        "holderName": "ADA YILMAZ",
    }
    body.update(overrides)
    return body


def purchase_body(proposal_id: str, product_id: str, **overrides: Any) -> dict[str, Any]:
    """A `3d-secure` body with the approving card unless overridden (`$type` first)."""
    body: dict[str, Any] = {
        "$type": "3d-secure",
        "proposalId": proposal_id,
        "proposalProductId": product_id,
        "installmentNumber": 1,
        "callbackUrl": CALLBACK,
        "card": card(),
    }
    body.update(overrides)
    if body["$type"] == "insurance-company-redirect" and "card" not in overrides:
        del body["card"]
    return body


def pick(
    proposal: dict[str, Any],
    *,
    state: str = "ACTIVE",
    option: str | None = None,
    product_type: str = "WEB_SERVICE",
) -> dict[str, Any]:
    """The first product in `state` of `product_type` that supports the payment `option`."""
    for product in proposal["products"]:
        if (
            product["state"] == state
            and product["productType"] == product_type
            and (option is None or option in product["supportedPaymentOptions"])
        ):
            return dict(product)
    raise AssertionError(f"no {state} {product_type} product supporting {option}")


def product_in(proposal: dict[str, Any], product_id: str) -> dict[str, Any]:
    return dict(next(p for p in proposal["products"] if p["id"] == product_id))
