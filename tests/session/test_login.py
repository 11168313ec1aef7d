"""Signing in: both transports, with and without the SMS step, cookie flags, MFA rules."""

import json

import httpx
import pytest
import redis.asyncio as aioredis

from app.config import Settings
from app.store.sessions import handle_of
from tests.conftest import AppFactory
from tests.fake_insurup import CASE_ID, CUSTOMER_ID, FakeInsurUp
from tests.helpers import CSRF, LOGIN_BODY, bearer, sign_in_bearer, sign_in_cookie


async def test_cookie_login_with_mfa_sets_a_hardened_cookie_and_signs_in(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert started.status_code == 202
    assert started.json() == {"status": "mfa_required"}
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("__Host-kasko_session=")
    for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert flag.lower() in cookie.lower()
    assert "Domain" not in cookie

    verified = await client.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert verified.status_code == 200
    body = verified.json()
    assert body["status"] == "authenticated"
    assert body["customerId"] == CUSTOMER_ID
    assert body["customerName"] == "Ada Y."
    assert body["caseId"] == CASE_ID
    assert "sessionToken" not in body

    session = await client.get("/api/v1/session")
    assert session.json()["caseId"] == CASE_ID


async def test_login_sends_insurup_the_contract_body_with_agent_from_settings(
    client: httpx.AsyncClient, insurup: FakeInsurUp, settings: Settings
) -> None:
    await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    sent = json.loads(insurup.router["login"].calls.last.request.content)
    assert next(iter(sent)) == "$type"
    assert sent == {
        "$type": "individual",
        "identityNumber": "11111111110",
        "birthDate": "1990-01-01",
        "phoneNumber": {"countryCode": 90, "number": "5321234567"},
        "agentId": settings.insurup_agent_id,
        "approvedConsentTypes": ["KVKK"],
    }


@pytest.mark.parametrize(
    ("consents", "sent"),
    [(["KVKK", "ETK"], ["KVKK", "ETK"]), (["KVKK", "KVKK"], ["KVKK"])],
)
async def test_consents_are_passed_to_insurup(
    client: httpx.AsyncClient, insurup: FakeInsurUp, consents: list[str], sent: list[str]
) -> None:
    answer = await client.post(
        "/api/v1/session", json={**LOGIN_BODY, "consents": consents}, headers=CSRF
    )
    assert answer.status_code == 202, answer.text
    body = json.loads(insurup.router["login"].calls.last.request.content)
    assert body["approvedConsentTypes"] == sent


@pytest.mark.parametrize("consents", [[], ["ETK"], ["MARKETING"], None])
async def test_a_sign_in_without_the_kvkk_consent_is_refused_before_insurup(
    client: httpx.AsyncClient, insurup: FakeInsurUp, consents: list[str] | None
) -> None:
    body = {**LOGIN_BODY, "consents": consents}
    if consents is None:
        del body["consents"]
    answer = await client.post("/api/v1/session", json=body, headers=CSRF)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} <= {"consents", "consents.0"}
    assert insurup.router["login"].call_count == 0


async def test_the_consents_and_their_notice_are_published(
    make_app: AppFactory, settings: Settings
) -> None:
    noticed = settings.model_copy(update={"kvkk_notice_url": "https://shop.example/kvkk"})
    async with make_app(noticed) as api:
        answer = await api.get("/api/v1/consents")
    assert answer.json() == [
        {"type": "KVKK", "required": True, "noticeUrl": "https://shop.example/kvkk"},
        {"type": "ETK", "required": False, "noticeUrl": None},
    ]


async def test_bearer_login_returns_a_token_and_no_cookie(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
    )
    assert started.status_code == 202
    assert "set-cookie" not in started.headers
    pending = started.json()["sessionToken"]
    assert len(pending) >= 43  # 256 bits in URL-safe base64
    verified = await client.post(
        "/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(pending)
    )
    assert verified.status_code == 200
    token = verified.json()["sessionToken"]
    assert len(token) >= 43 and token != pending
    me = await client.get("/api/v1/session", headers=bearer(token))
    assert me.json()["customerId"] == CUSTOMER_ID
    case_body = json.loads(insurup.router["case_create"].calls.last.request.content)
    assert case_body["channel"] == "MOBILE_APP"


async def test_cookie_session_opens_its_case_on_the_website_channel(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_cookie(client)
    case_body = json.loads(insurup.router["case_create"].calls.last.request.content)
    assert case_body == {
        "customerId": CUSTOMER_ID,
        "assetType": None,
        "assetId": None,
        "productBranch": "KASKO",
        "channel": "WEBSITE",
    }


async def test_direct_tokens_sign_in_at_once(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.direct_tokens = True
    answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert answer.status_code == 200
    assert answer.json()["status"] == "authenticated"
    assert insurup.router["verify"].call_count == 0
    assert (await client.get("/api/v1/customer")).status_code == 200


async def test_wrong_code_keeps_the_pending_login_then_five_strikes_end_it(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    for attempt in range(1, 5):
        wrong = await client.post("/api/v1/session/mfa", json={"code": "000000"}, headers=CSRF)
        assert wrong.status_code == 400, attempt
        assert wrong.json()["code"] == "mfa_invalid"
        assert (await client.get("/api/v1/session")).json() == {"status": "mfa_required"}
    fifth = await client.post("/api/v1/session/mfa", json={"code": "000000"}, headers=CSRF)
    assert fifth.status_code == 429
    assert fifth.json()["code"] == "rate_limited"
    assert int(fifth.headers["retry-after"]) > 0
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_mfa_without_pending_login_is_a_conflict(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_cookie(client)
    again = await client.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert again.status_code == 409
    assert again.json()["code"] == "mfa_not_pending"


async def test_mfa_without_any_session_is_not_authenticated(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert answer.status_code == 401
    assert answer.json()["code"] == "not_authenticated"


async def test_logout_deletes_the_session_and_clears_the_cookie(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_cookie(client)
    out = await client.delete("/api/v1/session", headers=CSRF)
    assert out.status_code == 204
    assert "max-age=0" in out.headers["set-cookie"].lower()
    client.cookies.clear()
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_logged_out_cookie_value_no_longer_works(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_cookie(client)
    stolen = client.cookies.get("__Host-kasko_session")
    await client.delete("/api/v1/session", headers=CSRF)
    client.cookies.clear()
    client.cookies.set("__Host-kasko_session", str(stolen))
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_customer_profile_is_read_fresh_and_masks_identity(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_cookie(client)
    before = insurup.router["me"].call_count
    first = await client.get("/api/v1/customer")
    await client.get("/api/v1/customer")
    assert insurup.router["me"].call_count == before + 2
    profile = first.json()
    assert profile["fullName"] == "Ada Yılmaz"
    assert profile["identityNumberMasked"] == "*********10"
    assert "11111111110" not in first.text
    assert "5321234567" not in first.text


async def test_bearer_token_is_not_accepted_as_a_cookie_and_vice_versa(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    token = await sign_in_bearer(client)
    client.cookies.set("__Host-kasko_session", token)
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_plain_http_development_drops_secure_and_the_host_prefix(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    dev = settings.model_copy(update={"cookie_secure": False})
    async with make_app(dev) as api:
        started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    cookie = started.headers["set-cookie"]
    assert cookie.startswith("kasko_session=")
    assert "secure" not in cookie.lower()


async def test_a_double_submitted_code_on_two_replicas_signs_in_once(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    import asyncio

    async with make_app() as one, make_app() as two:
        started = await one.post(
            "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
        )
        pending = started.json()["sessionToken"]
        answers = await asyncio.gather(
            *[
                (one if i % 2 else two).post(
                    "/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(pending)
                )
                for i in range(10)
            ]
        )
        # The first attempt signs in and alone learns the new session token; those that
        # overlap it wait, then find no pending sign-in (409), those after it find no session
        # at all (401). None burns InsurUp's single-use token a second time, none ends or
        # forks the session: one session results.
        assert sorted(a.status_code for a in answers)[0] == 200
        assert [a.status_code for a in answers].count(200) == 1
        assert {a.json()["code"] for a in answers if a.status_code != 200} <= {
            "mfa_not_pending",
            "not_authenticated",
        }
        assert insurup.router["verify"].call_count == 1
        token = next(a for a in answers if a.status_code == 200).json()["sessionToken"]
        assert (await two.get("/api/v1/customer", headers=bearer(token))).status_code == 200
        assert (await one.get("/api/v1/session", headers=bearer(pending))).status_code == 401


async def test_an_expired_mfa_token_ends_the_pending_sign_in(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    insurup.router["verify"].side_effect = None
    insurup.router["verify"].return_value = httpx.Response(401)
    answer = await client.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert answer.status_code == 409
    assert answer.json()["code"] == "mfa_not_pending"
    assert (await client.get("/api/v1/session")).status_code == 401


async def test_the_sms_step_issues_a_new_cookie_and_the_pending_one_stops_working(
    client: httpx.AsyncClient, insurup: FakeInsurUp, redis_client: aioredis.Redis, prefix: str
) -> None:
    """Session fixation: an id planted or seen before the SMS step never becomes signed in."""
    await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    pending = str(client.cookies.get("__Host-kasko_session"))
    verified = await client.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
    assert verified.status_code == 200
    assert "sessionToken" not in verified.json()
    signed_in = str(client.cookies.get("__Host-kasko_session"))
    assert signed_in != pending
    assert (await client.get("/api/v1/customer")).status_code == 200

    client.cookies.set("__Host-kasko_session", pending)
    assert (await client.get("/api/v1/session")).status_code == 401
    assert (await client.get("/api/v1/customer")).status_code == 401
    # Nothing of the pending session is left behind: one session record, the new one.
    sessions = [key async for key in redis_client.scan_iter(match=f"{prefix}session:*")]
    assert sessions == [f"{prefix}session:{{{handle_of(signed_in)}}}".encode()]
    strikes = [key async for key in redis_client.scan_iter(match=f"{prefix}mfa-attempts:*")]
    assert strikes == []


async def test_the_sms_step_issues_a_new_bearer_token_and_the_pending_one_stops_working(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    started = await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
    )
    pending = started.json()["sessionToken"]
    wrong = await client.post(
        "/api/v1/session/mfa", json={"code": "000000"}, headers=bearer(pending)
    )
    assert wrong.status_code == 400  # a wrong code keeps the pending id
    verified = await client.post(
        "/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(pending)
    )
    token = verified.json()["sessionToken"]
    assert token != pending
    assert (await client.get("/api/v1/customer", headers=bearer(token))).status_code == 200
    assert (await client.get("/api/v1/customer", headers=bearer(pending))).status_code == 401
    again = await client.post(
        "/api/v1/session/mfa", json={"code": "123456"}, headers=bearer(pending)
    )
    assert again.status_code == 401
