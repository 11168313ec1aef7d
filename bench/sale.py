"""One customer's whole sale, step by step through the public API, for load runs.

Bearer transport (as the mobile apps use), each call sent to the next replica in turn, so a
sale hops between replicas the way it would behind a load balancer without stickiness.
"""

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

CARD = {
    "number": "4242424242424242",
    "cvc": "123",
    "expiryMonth": "12",
    "expiryYear": "2030",
    "holderName": "YUK TESTI",
}


def tckn(n: int) -> str:
    """A valid T.C. Kimlik No built from a running number (first digit never 0)."""
    digits = [int(d) for d in f"{100000000 + n:09d}"]
    odd, even = sum(digits[0:9:2]), sum(digits[1:8:2])
    digits.append((odd * 7 - even) % 10)
    digits.append(sum(digits) % 10)
    return "".join(map(str, digits))


def plate(n: int) -> str:
    letters = "".join("ABCDEFGHJKLMNPRSTUVYZ"[(n // 21**i) % 21] for i in range(3))
    return f"34{letters}{100 + n % 900:03d}"


@dataclass
class Outcome:
    customer: int
    ok: bool = False
    step: str = ""
    error: str = ""
    seconds: float = 0.0
    policy_id: str | None = None
    statuses: list[int] = field(default_factory=list)


class Customer:
    def __init__(self, n: int, replicas: list[httpx.AsyncClient]) -> None:
        self.n = n
        self._next = itertools.cycle(replicas)
        self.headers: dict[str, str] = {}
        self.outcome = Outcome(customer=n)

    async def call(self, method: str, path: str, expect: int, **kwargs: Any) -> httpx.Response:
        self.outcome.step = f"{method} {path}"
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = await next(self._next).request(method, path, headers=headers, **kwargs)
        self.outcome.statuses.append(response.status_code)
        if response.status_code != expect:
            raise AssertionError(f"{response.status_code} {response.text[:300]}")
        return response

    async def buy(self, web: httpx.AsyncClient) -> Outcome:
        started = time.perf_counter()
        try:
            await self._buy(web)
            self.outcome.ok = True
        except (AssertionError, httpx.HTTPError, StopIteration, KeyError) as exc:
            self.outcome.error = f"{type(exc).__name__}: {exc}"
        self.outcome.seconds = time.perf_counter() - started
        return self.outcome

    async def _buy(self, web: httpx.AsyncClient) -> None:
        login = {
            "customerType": "individual",
            "identityNumber": tckn(self.n),
            "birthDate": "1985-05-05",
            "phoneNumber": f"532{self.n % 10_000_000:07d}",
            "consents": ["KVKK"],
        }
        started = await self.call(
            "POST", "/api/v1/session", 202, json=login, headers={"X-Session-Transport": "bearer"}
        )
        self.headers = {"Authorization": f"Bearer {started.json()['sessionToken']}"}
        verified = await self.call("POST", "/api/v1/session/mfa", 200, json={"code": "123456"})
        self.headers = {"Authorization": f"Bearer {verified.json()['sessionToken']}"}
        car = {"plate": plate(self.n), "documentSerial": "AB123456"}
        vehicle = (await self.call("POST", "/api/v1/vehicles", 201, json=car)).json()
        key = {"Idempotency-Key": f"load-quote-{self.n:08d}"}
        quote_id = (
            await self.call(
                "POST", "/api/v1/quotes", 201, json={"vehicleId": vehicle["id"]}, headers=key
            )
        ).json()["quoteId"]
        quote: dict[str, Any] = {}
        for _ in range(200):
            quote = (await self.call("GET", f"/api/v1/quotes/{quote_id}", 200)).json()
            if quote["complete"]:
                break
            await asyncio.sleep(0.25)
        product = next(
            p for p in quote["products"] if p["purchasable"] and "3d-secure" in p["paymentMethods"]
        )
        base = f"/api/v1/quotes/{quote_id}/products/{product['productId']}"
        await self.call("GET", f"{base}/information-form", 200)  # read before paying, by law
        body = {
            "installmentNumber": 1,
            "method": "3d-secure",
            "card": CARD,
            "informationFormAccepted": True,
        }
        path = f"{base}/purchase"
        payment = (
            await self.call(
                "POST", path, 201, json=body, headers={"Idempotency-Key": f"load-pay-{self.n:08d}"}
            )
        ).json()
        # The customer's browser on the bank page, then back through the gateway's callback.
        bank = await web.post(f"{payment['redirectUrl']}/approve", data={"smsCode": "123456"})
        assert bank.status_code == 303, bank.text
        back = await web.get(bank.headers["location"])
        assert back.status_code == 303, back.text
        status: dict[str, Any] = {}
        for _ in range(100):
            status = (
                await self.call("GET", f"/api/v1/payments/{payment['paymentId']}", 200)
            ).json()
            if status["status"] != "pending":
                break
            await asyncio.sleep(0.1)
        assert status["status"] == "succeeded", status
        self.outcome.policy_id = status["policyId"]
        await self.call("GET", f"/api/v1/policies/{status['policyId']}", 200)
        document = await self.call("GET", f"/api/v1/policies/{status['policyId']}/document", 200)
        assert document.content.startswith(b"%PDF")


async def run_sales(
    count: int, replicas: list[httpx.AsyncClient], browser: httpx.AsyncClient, first: int = 1
) -> tuple[list[Outcome], float]:
    started = time.perf_counter()
    outcomes = await asyncio.gather(
        *[Customer(first + i, replicas).buy(browser) for i in range(count)]
    )
    return list(outcomes), time.perf_counter() - started
