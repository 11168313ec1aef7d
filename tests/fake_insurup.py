"""A stateful InsurUp double on respx: rotating tokens, cases, call counts by route name.

Unit tests steer it through its attributes (which tokens are live, which cases exist) and
assert on `router["refresh"].call_count` and friends.
"""

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import respx

BASE_URL = "https://insurup.test"
CUSTOMER_ID = "8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11"
MFA_TOKEN = "mfa-token-7b2f9c"
CASE_ID = "65f1c0ffee0ddba11ca5e001"


def problem(status: int, kind: str, detail: str = "") -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "type": f"https://api.insurup.com/problems/{kind}",
            "title": kind,
            "status": status,
            "detail": detail,
        },
        headers={"content-type": "application/problem+json"},
    )


@dataclass
class FakeInsurUp:
    router: respx.MockRouter
    mfa_code: str = "123456"
    direct_tokens: bool = False
    live_access: set[str] = field(default_factory=set)
    live_refresh: set[str] = field(default_factory=set)
    used_refresh: list[str] = field(default_factory=list)
    cases: list[dict[str, object]] = field(default_factory=list)
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    proposal_products: list[dict[str, Any]] = field(default_factory=list)
    created_proposals: list[dict[str, Any]] = field(default_factory=list)
    purchases: list[dict[str, Any]] = field(default_factory=list)
    created_vehicles: list[dict[str, Any]] = field(default_factory=list)
    created_cases: int = 0
    # False plays an InsurUp whose legacy `cases` items have no `id` field.
    cases_have_id: bool = True
    # The Authorization header of every refresh call ("" when none was sent).
    refresh_authorizations: list[str] = field(default_factory=list)
    # InsurUp holds a product (PURCHASING) from the purchase start, as the sandbox does;
    # False plays an InsurUp that keeps it ACTIVE while the customer is on the bank page.
    purchasing_on_start: bool = False
    # The purchase answer's form hand-off (`method`, `formParameters`), when set.
    purchase_form: dict[str, Any] | None = None
    # Service-account tokens issued (client credentials) and still accepted.
    service_tokens: list[str] = field(default_factory=list)
    # What `external-lookup` answers for 34ABC123 (tests swap in partial or masked answers).
    lookup_answer: dict[str, Any] = field(default_factory=lambda: dict(LOOKUP_CLIO))
    _counter: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def issue(self) -> dict[str, object]:
        n = next(self._counter)
        access, refresh = f"access-{n:04d}-secret", f"refresh-{n:04d}-secret"
        self.live_access.add(access)
        self.live_refresh.add(refresh)
        return {"accessToken": access, "refreshToken": refresh, "expiresIn": 600}

    def revoke_all_access(self) -> None:
        self.live_access.clear()

    def _authorized(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.removeprefix("Bearer ") in self.live_access

    def _agency(self, request: httpx.Request) -> bool:
        """A service-account token: agency scope, any customer's proposals."""
        return request.headers.get("authorization", "").removeprefix("Bearer ") in (
            self.service_tokens
        )

    def service_token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        if form != {
            "grant_type": "client_credentials",
            "client_id": SERVICE_CLIENT,
            "client_secret": SERVICE_SECRET,
            "scope": "core-api",
        }:
            return httpx.Response(401, json={"error": "invalid_client"})
        token = f"service-{len(self.service_tokens) + 1:04d}-secret"
        self.service_tokens.append(token)
        return httpx.Response(
            200, json={"access_token": token, "token_type": "Bearer", "expires_in": 1800}
        )

    def information_form(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        return httpx.Response(
            200, content=b"%PDF-1.4 form", headers={"content-type": "application/pdf"}
        )

    def login(self, request: httpx.Request) -> httpx.Response:
        if self.direct_tokens:
            return httpx.Response(200, json=self.issue())
        return httpx.Response(200, json={"token": MFA_TOKEN, "customerId": CUSTOMER_ID})

    def verify(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body.get("token") != MFA_TOKEN:
            return problem(401, "unauthorized")
        if body.get("code") != self.mfa_code:
            return problem(422, "business-validation", "Kod hatalı")
        return httpx.Response(200, json={**self.issue(), "customerId": CUSTOMER_ID})

    def refresh(self, request: httpx.Request) -> httpx.Response:
        token = json.loads(request.content).get("refreshToken")
        self.used_refresh.append(str(token))
        self.refresh_authorizations.append(request.headers.get("authorization", ""))
        if token not in self.live_refresh:
            return problem(401, "unauthorized")
        self.live_refresh.discard(token)  # rotation: a used refresh token is dead
        return httpx.Response(200, json=self.issue())

    def me(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        return httpx.Response(
            200,
            json={
                "id": CUSTOMER_ID,
                "$type": "individual",
                "identityNumber": "11111111110",
                "fullName": "Ada Yılmaz",
                "birthDate": "1990-01-01",
                "primaryEmail": "ada@example.com",
                "primaryPhoneNumber": {"countryCode": 90, "number": "5321234567"},
            },
        )

    def graphql(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        query = json.loads(request.content)["query"]
        if not self.cases_have_id and "items { id" in query:
            error = {
                "message": "The field `id` does not exist on the type `CaseListItem`.",
                "extensions": {"code": "HC0020"},
            }
            return httpx.Response(200, json={"errors": [error]})
        if not self.cases_have_id:
            items = [{k: v for k, v in case.items() if k != "id"} for case in self.cases]
            return httpx.Response(
                200, json={"data": {"cases": {"totalCount": len(items), "items": items}}}
            )
        return httpx.Response(
            200, json={"data": {"cases": {"totalCount": len(self.cases), "items": self.cases}}}
        )

    def create_case(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        self.created_cases += 1
        return httpx.Response(200, json=CASE_ID)

    def vehicle_list(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        return httpx.Response(200, json=self.vehicles)

    def lookup(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        body = json.loads(request.content)
        if body["plate"] != {"city": 34, "code": "ABC123"}:
            return problem(404, "resource-not-found", "Araç bulunamadı")
        return httpx.Response(200, json=self.lookup_answer)

    def create_vehicle(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        self.created_vehicles.append(json.loads(request.content))
        return httpx.Response(200, json={"id": VEHICLE_ID})

    def create_proposal(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        self.created_proposals.append(json.loads(request.content))
        return httpx.Response(200, json={"proposalId": PROPOSAL_ID})

    def read_proposal(self, request: httpx.Request) -> httpx.Response:
        if not (self._authorized(request) or self._agency(request)):
            return problem(401, "unauthorized")
        if not request.url.path.endswith(PROPOSAL_ID):
            return problem(404, "resource-not-found")
        return httpx.Response(
            200,
            json={
                "proposalId": PROPOSAL_ID,
                "productBranch": "KASKO",
                "state": "ACTIVE",
                "products": self.proposal_products,
            },
        )

    def purchase(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        body = json.loads(request.content)
        held = [p for p in self.proposal_products if p["state"] in ("PURCHASING", "PURCHASED")]
        if held:
            return problem(
                409,
                "resource-invalid-state",
                f"Another product of the proposal is {held[0]['state']}.",
            )
        self.purchases.append(body)
        if self.purchasing_on_start:
            self.set_state(body["proposalProductId"], "PURCHASING")
        answer: dict[str, Any] = {"redirectUrl": "https://bank.example/3ds/abc"}
        return httpx.Response(200, json=answer | (self.purchase_form or {}))

    def set_state(self, product_id: str, state: str, policy_id: str | None = None) -> None:
        for item in self.proposal_products:
            if item["id"] == product_id:
                item["state"] = state
                item["policyId"] = policy_id


def product(
    product_id: str,
    *,
    state: str = "ACTIVE",
    insurer: tuple[int, str] = (7, "Anadolu Sigorta"),
    premiums: tuple[float, ...] = (9000.0, 9200.0),
    product_type: str = "WEB_SERVICE",
    options: tuple[str, ...] = ("ASYNC_3D_SECURE", "ASYNC_INSURANCE_COMPANY_REDIRECT"),
    error: str | None = None,
    insurer_product_id: int | None = None,
) -> dict[str, Any]:
    """An InsurUp `products[]` item (contract field names)."""
    return {
        "id": product_id,
        "insuranceCompanyId": insurer[0],
        "insuranceCompanyName": insurer[1],
        "insuranceCompanyLogo": f"https://cdn.example/{insurer[0]}.svg",
        "productId": insurer_product_id or 2200 + sum(map(ord, product_id)) % 100,
        "productName": "Kasko",
        "productType": product_type,
        "state": state,
        "premiums": [
            {
                "installmentNumber": [1, 3, 6][i],
                "netPremium": amount - 500,
                "grossPremium": amount,
                "commission": 1234.5,
                "exchangeRate": 1,
                "currency": "TURKISH_LIRA",
                "insuranceCompanyProposalNumber": f"P-{product_id}-{i}",
            }
            for i, amount in enumerate(
                premiums if state in ("ACTIVE", "PURCHASING", "PURCHASED") else ()
            )
        ],
        "supportedPaymentOptions": list(options),
        "policyId": None,
        "errorMessage": error,
        "coverageGroupId": "65f1c0ffee0ddba11ca5e0aa",
        "coverageGroupName": "Genişletilmiş Kasko",
        "needsInvestigationByCompany": False,
    }


PROPOSAL_ID = "6911d24a134c60468e941880"

LOOKUP_CLIO: dict[str, Any] = {
    "plate": {"city": 34, "code": "ABC123"},
    "documentSerial": {"code": "AB", "number": "123456"},
    "model": {
        "brand": {"value": "052", "text": "RENAULT"},
        "year": 2021,
        "type": {"value": "052-118", "text": "CLIO"},
    },
    "fuelType": "GASOLINE",
    "utilizationStyle": "PRIVATE_CAR",
    "registrationDate": "2021-03-15",
    "chassis": "VF1RJA00000000001",
    "chassisIsMasked": False,
    "engine": "H4D000001",
    "engineIsMasked": False,
    "seatNumber": 5,
}
AUTH_URL = "https://auth.insurup.test"
SERVICE_CLIENT = "sa-gateway-test"
SERVICE_SECRET = "service-secret-9f2c"
VEHICLE_ID = "0d9e2c1a-6b7f-4c3e-8a21-5f4e3d2c1b0a"


def install(router: respx.MockRouter) -> FakeInsurUp:
    fake = FakeInsurUp(router=router)
    router.post("/api/auth/customer/login-or-register", name="login").mock(side_effect=fake.login)
    router.post("/api/auth/customer/verify-mfa", name="verify").mock(side_effect=fake.verify)
    router.post("/api/auth/customer/refresh", name="refresh").mock(side_effect=fake.refresh)
    router.get("/api/customers/me", name="me").mock(side_effect=fake.me)
    router.post("/graphql", name="graphql").mock(side_effect=fake.graphql)
    router.post("/api/cases:new-sale-opportunity", name="case_create").mock(
        side_effect=fake.create_case
    )
    router.get("/", name="root").mock(return_value=httpx.Response(404))
    router.get("/api/customers/me/vehicles", name="vehicles").mock(side_effect=fake.vehicle_list)
    router.post(f"/api/customers/{CUSTOMER_ID}/vehicles/external-lookup", name="lookup").mock(
        side_effect=fake.lookup
    )
    router.post(f"/api/customers/{CUSTOMER_ID}/vehicles", name="vehicle_create").mock(
        side_effect=fake.create_vehicle
    )
    router.post("/api/proposals", name="proposal_create").mock(side_effect=fake.create_proposal)
    router.get(path__regex=r"^/api/proposals/[^/]+$", name="proposal").mock(
        side_effect=fake.read_proposal
    )
    router.post(
        path__regex=r"^/api/proposals/[^/]+/products/[^/]+/purchase/async$", name="purchase"
    ).mock(side_effect=fake.purchase)
    router.get(
        path__regex=r"^/api/proposals/[^/]+/products/[^/]+/information-form$",
        name="information_form",
    ).mock(side_effect=fake.information_form)
    router.post(f"{AUTH_URL}/connect/token", name="service_token").mock(
        side_effect=fake.service_token
    )
    router.get("/api/vehicle-parameters/brands", name="brands").mock(
        return_value=httpx.Response(
            200,
            json=[
                {"value": "052", "text": "RENAULT"},
                {"value": "020", "text": "FIAT"},
                {"value": "052", "text": "RENAULT"},
            ],
        )
    )
    router.get("/api/vehicle-parameters/models", name="models").mock(
        return_value=httpx.Response(200, json=[{"value": "052-118", "text": "CLIO"}])
    )
    return fake
