"""CSRF, Origin allowlist and field-level validation, all before InsurUp is asked."""

import json

import httpx
import pytest

from app.config import Settings
from tests.conftest import AppFactory
from tests.fake_insurup import FakeInsurUp
from tests.helpers import CSRF, LOGIN_BODY, bearer, sign_in_bearer


async def test_cookie_login_without_csrf_header_is_refused(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    answer = await client.post("/api/v1/session", json=LOGIN_BODY)
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_required"
    assert answer.headers["content-type"] == "application/problem+json"
    assert insurup.router["login"].call_count == 0


async def test_foreign_origin_is_refused(client: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    answer = await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={**CSRF, "Origin": "https://evil.example"}
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "origin_not_allowed"
    assert insurup.router["login"].call_count == 0


async def test_own_origin_is_allowed(client: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    answer = await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={**CSRF, "Origin": "https://shop.example"}
    )
    assert answer.status_code == 202


async def test_bearer_requests_need_no_csrf_header(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    token = await sign_in_bearer(client)
    assert (await client.delete("/api/v1/session", headers=bearer(token))).status_code == 204


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"identityNumber": "11111111111"}, "identityNumber"),
        ({"identityNumber": "1234"}, "identityNumber"),
        ({"phoneNumber": "+90 212 123 45 67"}, "phoneNumber"),
        ({"phoneNumber": "+44 7700 900123"}, "phoneNumber"),
        ({"birthDate": "2999-01-01"}, "birthDate"),
        ({"birthDate": "1990-02-30"}, "birthDate"),
        ({"birthDate": None}, "birthDate"),
        ({"customerType": "robot"}, "customerType"),
        (
            {"customerType": "company", "identityNumber": "1234567891", "birthDate": None},
            "identityNumber",
        ),
        ({"customerType": "company", "identityNumber": "1234567890"}, "birthDate"),
    ],
)
async def test_bad_login_input_names_the_field_and_never_reaches_insurup(
    client: httpx.AsyncClient, insurup: FakeInsurUp, change: dict[str, object], field: str
) -> None:
    body = {**LOGIN_BODY, **change}
    answer = await client.post("/api/v1/session", json=body, headers=CSRF)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "validation_failed"
    assert field in [e["field"] for e in problem["errors"]]
    assert insurup.router["login"].call_count == 0
    for value in change.values():
        if isinstance(value, str) and len(value) > 4:
            assert value not in answer.text


async def test_company_login_sends_a_tax_number(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    digits = "1234567890"  # passes the VKN checksum
    body = {
        "customerType": "company",
        "identityNumber": digits,
        "phoneNumber": "05321234567",
        "consents": ["KVKK"],
    }
    answer = await client.post("/api/v1/session", json=body, headers=CSRF)
    assert answer.status_code == 202, answer.text
    sent = json.loads(insurup.router["login"].calls.last.request.content)
    assert sent["$type"] == "company"
    assert sent["taxNumber"] == digits
    assert "birthDate" not in sent


async def test_malformed_json_is_a_validation_problem(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/api/v1/session",
        content=b"{not json",
        headers={**CSRF, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_failed"


async def test_unknown_route_is_a_problem_too(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert answer.headers["cache-control"] == "no-store"


async def test_request_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    insane = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert insane.headers["x-request-id"] != "bad id\twith spaces"
    assert len(insane.headers["x-request-id"]) == 32


async def test_request_id_reaches_insurup(client: httpx.AsyncClient, insurup: FakeInsurUp) -> None:
    await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={**CSRF, "X-Request-ID": "trace-42"}
    )
    sent = insurup.router["login"].calls.last.request
    assert sent.headers["x-request-id"] == "trace-42"
    assert sent.headers["accept-language"] == "tr-TR"


async def test_login_rate_limit_per_identity_is_shared_and_says_when_to_retry(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    statuses = []
    for _ in range(6):
        answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        statuses.append(answer.status_code)
    assert statuses == [202] * 5 + [429]
    assert answer.json()["code"] == "rate_limited"
    assert int(answer.headers["retry-after"]) > 0
    assert insurup.router["login"].call_count == 5


async def test_login_rate_limit_is_shared_by_replicas(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    async with make_app() as one, make_app() as two:
        statuses = [
            (
                await (one if i % 2 else two).post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
            ).status_code
            for i in range(6)
        ]
    assert statuses == [202] * 5 + [429]


async def test_login_rate_limit_per_ip_counts_every_identity(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    tight = settings.model_copy(update={"login_rate_limit_per_ip": "3/minute"})
    identities = ["11111111110", "10000000146", "10000000214", "20000000046"]
    async with make_app(tight) as api:
        statuses = [
            (
                await api.post(
                    "/api/v1/session", json={**LOGIN_BODY, "identityNumber": tckn}, headers=CSRF
                )
            ).status_code
            for tckn in identities
        ]
    assert statuses == [202, 202, 202, 429]


async def test_field_names_in_errors_are_the_requests_own_even_for_missing_fields(
    client: httpx.AsyncClient,
) -> None:
    """A rule on a missing field (the birth date of an individual) runs on its default,
    where pydantic names the field in Python; the API answers with the request's name."""
    body = {k: v for k, v in LOGIN_BODY.items() if k != "birthDate"}
    answer = await client.post("/api/v1/session", json=body, headers=CSRF)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["birthDate"]
    assert "birth_date" not in answer.text
