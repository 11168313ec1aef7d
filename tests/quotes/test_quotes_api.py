"""Quotes through the API: creation, idempotency, the comparison, details, retry, events."""

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.conftest import AppFactory
from tests.fake_insurup import CUSTOMER_ID, PROPOSAL_ID, VEHICLE_ID, FakeInsurUp, product
from tests.helpers import CSRF, sign_in_cookie

GROUP_A, GROUP_B = "65f1c0ffee0ddba11ca5e0aa", "65f1c0ffee0ddba11ca5e0bb"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "coverage_group_ids": [GROUP_A, GROUP_B],
            "coverage_group_names": ["Genişletilmiş", "Dar"],
            "quote_poll_seconds": 0.02,
        }
    )


@pytest.fixture
async def api(make_app: AppFactory, insurup: FakeInsurUp) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app() as client:
        await sign_in_cookie(client)
        yield client


def _sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


async def test_a_quote_asks_insurup_for_every_configured_package(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    groups = await api.get("/api/v1/coverage-groups")
    assert groups.json() == [
        {"id": GROUP_A, "name": "Genişletilmiş"},
        {"id": GROUP_B, "name": "Dar"},
    ]
    start = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    created = await api.post(
        "/api/v1/quotes", json={"vehicleId": VEHICLE_ID, "policyStartDate": start}, headers=CSRF
    )
    assert created.status_code == 201, created.text
    assert created.json() == {"quoteId": PROPOSAL_ID}
    sent = insurup.created_proposals[-1]
    assert next(iter(sent)) == "$type"
    assert sent == {
        "$type": "kasko",
        "productBranch": "KASKO",
        "insurerCustomerId": CUSTOMER_ID,
        "insuredCustomerId": CUSTOMER_ID,
        "vehicleId": VEHICLE_ID,
        "coverageGroupIds": [GROUP_A, GROUP_B],
        "channel": "WEBSITE",
        "policyStartDate": start,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"vehicleId": VEHICLE_ID, "coverageGroupIds": ["ffffffffffffffffffffffff"]},
            "coverageGroupIds",
        ),
        ({"vehicleId": VEHICLE_ID, "policyStartDate": "2001-01-01"}, "policyStartDate"),
        ({"vehicleId": "../../etc"}, "vehicleId"),
        ({}, "vehicleId"),
    ],
)
async def test_bad_quote_requests_name_the_field(
    api: httpx.AsyncClient, insurup: FakeInsurUp, body: dict[str, object], field: str
) -> None:
    answer = await api.post("/api/v1/quotes", json=body, headers=CSRF)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert insurup.created_proposals == []


async def test_one_idempotency_key_creates_one_proposal(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    headers = {**CSRF, "Idempotency-Key": "quote-key-0001"}
    body = {"vehicleId": VEHICLE_ID}
    first = await api.post("/api/v1/quotes", json=body, headers=headers)
    second = await api.post("/api/v1/quotes", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert len(insurup.created_proposals) == 1

    other = await api.post(
        "/api/v1/quotes", json={**body, "coverageGroupIds": [GROUP_A]}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_concurrent_requests_with_one_key_on_two_replicas_create_one_proposal(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    async with make_app() as one, make_app() as two:
        await sign_in_cookie(one)
        two.cookies = one.cookies
        headers = {**CSRF, "Idempotency-Key": "quote-key-0002"}
        answers = await asyncio.gather(
            *[
                (one, two)[i % 2].post(
                    "/api/v1/quotes", json={"vehicleId": VEHICLE_ID}, headers=headers
                )
                for i in range(20)
            ]
        )
    assert len(insurup.created_proposals) == 1
    assert {a.status_code for a in answers} <= {201, 409}
    assert all(a.json() == {"quoteId": PROPOSAL_ID} for a in answers if a.status_code == 201)
    assert all(a.json()["code"] == "request_in_progress" for a in answers if a.status_code == 409)


async def test_a_failed_creation_frees_the_key_for_a_retry(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    route = insurup.router["proposal_create"]
    route.side_effect = httpx.ReadTimeout("slow")
    headers = {**CSRF, "Idempotency-Key": "quote-key-0003"}
    failed = await api.post("/api/v1/quotes", json={"vehicleId": VEHICLE_ID}, headers=headers)
    assert failed.status_code == 504
    route.side_effect = insurup.create_proposal
    retried = await api.post("/api/v1/quotes", json={"vehicleId": VEHICLE_ID}, headers=headers)
    assert retried.status_code == 201


async def test_the_comparison_is_normalised_and_sorted(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [
        product("a", premiums=(12000.0,)),
        product("b", state="WAITING"),
        product("c", premiums=(9000.0, 9500.0)),
        product("robot", product_type="ROBOT", premiums=(7000.0,)),
    ]
    answer = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}")
    assert answer.status_code == 200
    quote = answer.json()
    assert [p["productId"] for p in quote["products"]] == ["robot", "c", "a", "b"]
    assert [p["purchasable"] for p in quote["products"]] == [False, True, True, False]
    assert quote["lowestPremium"] == {"amount": 7000.0, "currency": "TRY"}
    assert quote["complete"] is False
    assert "commission" not in answer.text


async def test_someone_elses_quote_is_not_found(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/quotes/ffffffffffffffffffffffff")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


async def test_installment_detail_and_missing_plans(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("c", premiums=(9000.0, 9500.0))]
    insurup.router.get(
        f"/api/proposals/{PROPOSAL_ID}/products/c/premium-detail/3", name="premium_detail"
    ).mock(
        return_value=httpx.Response(
            200, json={"installmentNumber": 3, "insuranceCompanyProposalNumber": "ANA-77"}
        )
    )
    detail = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/products/c/installments/3")
    assert detail.status_code == 200, detail.text
    assert detail.json() == {
        "installmentNumber": 3,
        "grossPremium": 9500.0,
        "netPremium": 9000.0,
        "currency": "TRY",
        "insurerProposalNumber": "ANA-77",
    }
    missing = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/products/c/installments/12")
    assert missing.status_code == 404


async def test_coverage_is_flattened(api: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    insurup.router.get(f"/api/proposals/{PROPOSAL_ID}/products/c/coverage").mock(
        return_value=httpx.Response(
            200,
            json={
                "coverage": {
                    "$type": "kasko",
                    "productBranch": "KASKO",
                    "immLimitiAyrimsiz": {"$type": "DECIMAL", "value": 1000000},
                    "camKirilmaMuafeyeti": {"$type": "INCLUDED"},
                    "onarimServisTuru": "ANLASMALI_OZEL_SERVIS",
                }
            },
        )
    )
    answer = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/products/c/coverage")
    assert answer.json() == {
        "productId": "c",
        "items": [
            {"name": "immLimitiAyrimsiz", "kind": "DECIMAL", "value": 1000000},
            {"name": "camKirilmaMuafeyeti", "kind": "INCLUDED", "value": None},
            {"name": "onarimServisTuru", "kind": "OPTION", "value": "ANLASMALI_OZEL_SERVIS"},
        ],
    }


async def test_retry_asks_insurup_again(api: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    route = insurup.router.post(f"/api/proposals/{PROPOSAL_ID}/products/f/retry").mock(
        return_value=httpx.Response(204)
    )
    answer = await api.post(f"/api/v1/quotes/{PROPOSAL_ID}/products/f/retry", headers=CSRF)
    assert answer.status_code == 202
    assert json.loads(route.calls.last.request.content) == {
        "proposalId": PROPOSAL_ID,
        "proposalProductId": "f",
    }


def _script(insurup: FakeInsurUp, snapshots: list[list[dict[str, object]]]) -> None:
    """InsurUp answers each read with the next snapshot, then keeps the last one."""
    remaining = list(snapshots)

    def read(request: httpx.Request) -> httpx.Response:
        insurup.proposal_products = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return insurup.read_proposal(request)

    insurup.router["proposal"].side_effect = read


async def test_events_follow_products_in_order_until_complete(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    _script(
        insurup,
        [
            [product("a", state="WAITING"), product("b", state="WAITING")],
            [product("a", state="WAITING"), product("b", state="WAITING")],
            [product("a"), product("b", state="WAITING")],
            [product("a"), product("b", state="FAILED", error="Zaman aşımı")],
        ],
    )
    answer = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/events")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _sse(answer.text)
    assert [
        (name, data["productId"] if name == "product" else None, data["state"])
        for name, data in events
    ] == [
        ("product", "a", "waiting"),
        ("product", "b", "waiting"),
        ("product", "a", "active"),
        ("product", "b", "failed"),
        ("complete", None, "active"),
    ]
    assert events[-1][1]["complete"] is True


async def test_a_hundred_subscribers_cost_no_more_polls_than_one(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    waiting = [product("a", state="WAITING")]
    _script(insurup, [waiting] * 6 + [[product("a")]])
    route = insurup.router["proposal"]
    single = await api.get(f"/api/v1/quotes/{PROPOSAL_ID}/events")
    one_subscriber_calls = route.call_count
    assert _sse(single.text)[-1][0] == "complete"

    route.reset()
    _script(insurup, [waiting] * 6 + [[product("a")]])
    answers = await asyncio.gather(
        *[api.get(f"/api/v1/quotes/{PROPOSAL_ID}/events") for _ in range(100)]
    )
    assert all(_sse(a.text)[-1][0] == "complete" for a in answers)
    assert route.call_count <= one_subscriber_calls


async def test_events_of_an_unknown_quote_fail_before_the_stream(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v1/quotes/ffffffffffffffffffffffff/events")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_events_end_with_timeout(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    insurup.proposal_products = [product("a", state="WAITING")]
    brief = settings.model_copy(update={"quote_stream_seconds": 0.2})
    async with make_app(brief) as client:
        await sign_in_cookie(client)
        answer = await client.get(f"/api/v1/quotes/{PROPOSAL_ID}/events")
    events = _sse(answer.text)
    assert events[0][0] == "product"
    assert events[-1] == ("timeout", {"quoteId": PROPOSAL_ID})


async def test_a_disconnected_subscriber_stops_costing_anything(
    settings: Settings, insurup_router: object, insurup: FakeInsurUp
) -> None:
    from app.main import create_app
    from bench.servers import serving

    insurup.proposal_products = [product("a", state="WAITING")]
    plain_http = settings.model_copy(
        update={"cookie_secure": False, "public_base_url": "http://127.0.0.1"}
    )
    app = create_app(
        plain_http,
        insurup_transport=httpx.MockTransport(insurup.router.async_handler),
        configure_logs=False,
    )
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as web:
        await sign_in_cookie(web)
        async with web.stream("GET", f"/api/v1/quotes/{PROPOSAL_ID}/events") as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event: product"):
                    break
            assert app.state.services.quotes.followed == 1
        for _ in range(200):  # the server notices the closed connection shortly
            if app.state.services.quotes.followed == 0:
                break
            await asyncio.sleep(0.01)
        assert app.state.services.quotes.followed == 0
        polls = insurup.router["proposal"].call_count
        await asyncio.sleep(settings.quote_poll_seconds * 10)
        assert insurup.router["proposal"].call_count == polls
