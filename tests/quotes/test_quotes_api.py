"""Quotes through the API: creation, idempotency, the comparison, details, retry, events."""

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.config import Settings
from tests.conftest import AppFactory, LogLines
from tests.fake_insurup import (
    CUSTOMER_ID,
    PROPOSAL_ID,
    VEHICLE_ID,
    FakeInsurUp,
    problem,
    product,
)
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


async def test_quote_creation_is_limited_per_session_with_retry_after(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    tight = settings.model_copy(update={"quote_rate_limit_per_session": "2/minute"})
    async with make_app(tight) as api:
        await sign_in_cookie(api)
        body = {"vehicleId": VEHICLE_ID}
        answers = [await api.post("/api/v1/quotes", json=body, headers=CSRF) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].json()["code"] == "rate_limited"
    assert int(answers[2].headers["retry-after"]) > 0
    assert len(insurup.created_proposals) == 2


async def test_an_answered_idempotent_replay_spends_no_quote_allowance(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    tight = settings.model_copy(update={"quote_rate_limit_per_session": "1/minute"})
    async with make_app(tight) as api:
        await sign_in_cookie(api)
        keyed = {**CSRF, "Idempotency-Key": "quote-key-0010"}
        body = {"vehicleId": VEHICLE_ID}
        answers = [await api.post("/api/v1/quotes", json=body, headers=keyed) for _ in range(3)]
        other = await api.post("/api/v1/quotes", json=body, headers=CSRF)
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert other.status_code == 429
    assert len(insurup.created_proposals) == 1


async def test_quote_creation_is_limited_per_customer_across_sessions_and_replicas(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    tight = settings.model_copy(update={"quote_rate_limit_per_customer": "3/minute"})
    statuses = []
    async with make_app(tight) as one, make_app(tight) as two:
        for api in (one, two):
            await sign_in_cookie(api)  # two sessions of one customer, one per replica
        for i in range(4):
            answer = await (one, two)[i % 2].post(
                "/api/v1/quotes", json={"vehicleId": VEHICLE_ID}, headers=CSRF
            )
            statuses.append(answer.status_code)
    assert statuses == [201, 201, 201, 429]
    assert len(insurup.created_proposals) == 3


@pytest.mark.parametrize("path", ["", "/products/a/coverage", "/products/a/installments/1"])
async def test_another_customers_quote_looks_exactly_like_a_made_up_one(
    api: httpx.AsyncClient, insurup: FakeInsurUp, path: str
) -> None:
    """InsurUp says 403 in its own words for someone else's quote, 404 for none: both are
    404 `not_found` here, with the same body, so quote ids cannot be probed."""
    theirs, made_up = "ffffffffffffffffffffff01", "ffffffffffffffffffffff02"

    def insurup_answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(f"/api/proposals/{theirs}"):
            return problem(403, "forbidden", "Bu teklif başka bir müşteriye aittir")
        return problem(404, "resource-not-found", "Teklif bulunamadı")

    insurup.router["proposal"].side_effect = insurup_answer
    insurup.router.route(path__startswith=f"/api/proposals/{theirs}").mock(
        side_effect=insurup_answer
    )
    insurup.router.route(path__startswith=f"/api/proposals/{made_up}").mock(
        side_effect=insurup_answer
    )
    one = await api.get(f"/api/v1/quotes/{theirs}{path}")
    other = await api.get(f"/api/v1/quotes/{made_up}{path}")
    assert one.status_code == other.status_code == 404
    shown = {k: v for k, v in one.json().items() if k != "requestId"}
    assert shown == {k: v for k, v in other.json().items() if k != "requestId"}
    assert shown["code"] == "not_found"
    assert "müşteri" not in one.text and "bulunamadı" not in other.text


async def test_a_quote_for_another_customers_vehicle_is_not_found(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["proposal_create"].side_effect = None
    insurup.router["proposal_create"].return_value = problem(
        403, "forbidden", "Araç başka bir müşteriye aittir"
    )
    answer = await api.post("/api/v1/quotes", json={"vehicleId": VEHICLE_ID}, headers=CSRF)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert "müşteri" not in answer.text


async def test_a_call_back_request_is_recorded_once_where_the_agency_sees_it(
    make_app: AppFactory, insurup: FakeInsurUp, log_lines: LogLines
) -> None:
    """A robot quote has no pay button: the customer asks to be called. One log line (ids
    only, never the customer's identity or phone), however often the button is pressed."""
    insurup.proposal_products = [product("robot", product_type="ROBOT")]
    async with make_app() as client:
        await sign_in_cookie(client)
        path = f"/api/v1/quotes/{PROPOSAL_ID}/products/robot/callback-request"
        answers = [await client.post(path, headers=CSRF) for _ in range(3)]
        missing = await client.post(path.replace("/robot/", "/nope/"), headers=CSRF)
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert missing.status_code == 404
    lines = [json.loads(line) for line in log_lines.lines if "call-back requested" in line]
    assert len(lines) == 1
    assert lines[0]["quoteId"] == PROPOSAL_ID and lines[0]["reason"] == "robot"
    assert "11111111110" not in repr(lines[0]) and "5321234567" not in repr(lines[0])
