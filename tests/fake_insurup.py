"""A stateful InsurUp double on respx: rotating tokens, cases, call counts by route name.

Unit tests steer it through its attributes (which tokens are live, which cases exist) and
assert on `router["refresh"].call_count` and friends.
"""

import itertools
import json
from dataclasses import dataclass, field

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
    created_cases: int = 0
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
        return httpx.Response(
            200, json={"data": {"cases": {"totalCount": len(self.cases), "items": self.cases}}}
        )

    def create_case(self, request: httpx.Request) -> httpx.Response:
        if not self._authorized(request):
            return problem(401, "unauthorized")
        self.created_cases += 1
        return httpx.Response(200, json=CASE_ID)


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
    return fake
