"""Policies: summary, the PDF as bytes or behind a URL, streamed without buffering, e-mail."""

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from bench.servers import serving
from tests.conftest import AppFactory
from tests.fake_insurup import FakeInsurUp, problem
from tests.helpers import CSRF, sign_in_cookie

POLICY_ID = "65f1c0ffee0ddba11ca5e777"
PDF = b"%PDF-1.4\n" + b"0" * 1000 + b"\n%%EOF\n"


@pytest.fixture
def policy_routes(insurup: FakeInsurUp) -> FakeInsurUp:
    insurup.router.get(f"/api/policies/{POLICY_ID}", name="policy").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": POLICY_ID,
                "insuranceCompanyId": 7,
                "insuranceCompanyPolicyNumber": "KSK-2026/000123",
                "startDate": "2026-12-01",
                "endDate": "2027-12-01",
                "grossPremium": 9200.0,
                "commission": 1234.5,
                "currency": "TURKISH_LIRA",
                "state": "ACTIVE",
            },
        )
    )
    insurup.router.get("/api/insurance-companies", name="insurers").mock(
        return_value=httpx.Response(
            200,
            json=[
                {
                    "id": 7,
                    "name": "Anadolu Sigorta",
                    "logo": "https://cdn.example/7.svg",
                    "enabled": True,
                }
            ],
        )
    )
    return insurup


@pytest.fixture
async def api(make_app: AppFactory, policy_routes: FakeInsurUp) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app() as client:
        await sign_in_cookie(client)
        yield client


async def test_policy_summary(api: httpx.AsyncClient) -> None:
    answer = await api.get(f"/api/v1/policies/{POLICY_ID}")
    assert answer.status_code == 200
    assert answer.json() == {
        "policyId": POLICY_ID,
        "policyNumber": "KSK-2026/000123",
        "insurer": {"id": 7, "name": "Anadolu Sigorta", "logoUrl": "https://cdn.example/7.svg"},
        "startDate": "2026-12-01",
        "endDate": "2027-12-01",
        "grossPremium": 9200.0,
        "currency": "TRY",
        "state": "active",
    }
    assert "commission" not in answer.text


async def test_document_given_as_bytes(api: httpx.AsyncClient, policy_routes: FakeInsurUp) -> None:
    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        return_value=httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    )
    answer = await api.get(f"/api/v1/policies/{POLICY_ID}/document")
    assert answer.status_code == 200
    assert answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert (
        answer.headers["content-disposition"] == 'attachment; filename="kasko-KSK-2026_000123.pdf"'
    )


async def test_document_given_as_a_url_is_fetched_without_the_token(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp
) -> None:
    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        return_value=httpx.Response(200, json={"url": "https://files.insurup.com/p.pdf?sig=abc"})
    )
    files = respx_route = policy_routes.router.get("https://files.insurup.com/p.pdf").mock(
        return_value=httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    )
    answer = await api.get(f"/api/v1/policies/{POLICY_ID}/document")
    assert answer.content == PDF
    assert "authorization" not in files.calls.last.request.headers
    assert respx_route.call_count == 1


async def test_a_plain_http_document_url_elsewhere_is_not_followed(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp
) -> None:
    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        return_value=httpx.Response(200, json={"url": "http://169.254.169.254/latest"})
    )
    answer = await api.get(f"/api/v1/policies/{POLICY_ID}/document")
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_error"


async def test_a_large_pdf_is_streamed_not_buffered(
    settings: Settings, policy_routes: FakeInsurUp
) -> None:
    """The upstream holds back its tail until the client has seen the head: a gateway that
    buffered the file would never deliver the head, and the test would time out."""
    head_seen = asyncio.Event()
    chunk = b"x" * 65536

    async def body() -> AsyncIterator[bytes]:
        yield PDF[:9]
        for _ in range(32):
            yield chunk
        await asyncio.wait_for(head_seen.wait(), 10)
        for _ in range(288):  # about 20 MB in all
            yield chunk

    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        side_effect=lambda request: httpx.Response(
            200, stream=_Stream(body()), headers={"Content-Type": "application/pdf"}
        )
    )
    plain = settings.model_copy(
        update={"cookie_secure": False, "public_base_url": "http://127.0.0.1"}
    )
    app = create_app(
        plain,
        insurup_transport=httpx.MockTransport(policy_routes.router.async_handler),
        configure_logs=False,
    )
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=20) as web:
        await sign_in_cookie(web)
        received = 0
        async with web.stream("GET", f"/api/v1/policies/{POLICY_ID}/document") as stream:
            assert stream.status_code == 200
            async for part in stream.aiter_bytes():
                if received == 0:
                    assert part.startswith(b"%PDF")
                received += len(part)
                if received > 65536:
                    head_seen.set()
        assert received == 9 + 320 * 65536


class _Stream(httpx.AsyncByteStream):
    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self._chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._chunks:
            yield part


async def test_send_uses_the_customers_email(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp
) -> None:
    route = policy_routes.router.post(f"/api/policies/{POLICY_ID}/document/send").mock(
        return_value=httpx.Response(204)
    )
    answer = await api.post(f"/api/v1/policies/{POLICY_ID}/document/send", headers=CSRF)
    assert answer.status_code == 202
    assert json.loads(route.calls.last.request.content) == {
        "policyId": POLICY_ID,
        "customerId": "8f89a1b6-5d1c-4c6e-9a55-0c3d2b1a0f11",
        "communication": {"type": "email", "email": "ada@example.com"},
    }
    other = await api.post(
        f"/api/v1/policies/{POLICY_ID}/document/send", json={"email": "not-an-email"}, headers=CSRF
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "email"


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example/p.pdf",  # https, but not InsurUp's
        "https://insurup.com.evil.example/p.pdf",
        "https://evilinsurup.com/p.pdf",
        "https://files.insurup.com:8443/p.pdf",  # an allowed host, another port
        "https://files.insurup.com@evil.example/p.pdf",  # user info, then the real host
        "http://files.insurup.com/p.pdf",  # plain http
    ],
)
async def test_a_document_url_off_insurups_hosts_is_never_fetched(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp, url: str
) -> None:
    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        return_value=httpx.Response(200, json={"url": url})
    )
    elsewhere = policy_routes.router.route(host__regex=r"^(?!insurup\.test$)").mock(
        return_value=httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    )
    answer = await api.get(f"/api/v1/policies/{POLICY_ID}/document")
    assert answer.status_code == 502
    assert answer.json()["code"] == "upstream_error"
    assert elsewhere.call_count == 0


async def test_document_hosts_come_from_the_settings(
    make_app: AppFactory, settings: Settings, policy_routes: FakeInsurUp
) -> None:
    custom = settings.model_copy(update={"document_hosts": ["*.files.example"]})
    policy_routes.router.get(f"/api/policies/{POLICY_ID}/document").mock(
        side_effect=[
            httpx.Response(200, json={"url": "https://eu.files.example/p.pdf"}),
            httpx.Response(200, json={"url": "https://files.insurup.com/p.pdf"}),
        ]
    )
    listed = policy_routes.router.get("https://eu.files.example/p.pdf").mock(
        return_value=httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    )
    default = policy_routes.router.get("https://files.insurup.com/p.pdf").mock(
        return_value=httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"})
    )
    async with make_app(custom) as api:
        await sign_in_cookie(api)
        assert (await api.get(f"/api/v1/policies/{POLICY_ID}/document")).content == PDF
        # Configured hosts replace the default ones.
        assert (await api.get(f"/api/v1/policies/{POLICY_ID}/document")).status_code == 502
    assert listed.call_count == 1
    assert default.call_count == 0


@pytest.mark.parametrize("path", ["", "/document"])
async def test_another_customers_policy_looks_exactly_like_a_made_up_one(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp, path: str
) -> None:
    """InsurUp says 403 with its own words for someone else's policy and 404 for none; the
    gateway says 404 `not_found` for both, so policy ids cannot be probed."""
    theirs, made_up = "65f1c0ffee0ddba11ca5e888", "65f1c0ffee0ddba11ca5e999"
    foreign = problem(403, "forbidden", "Bu poliçe başka bir müşteriye aittir")
    policy_routes.router.get(f"/api/policies/{theirs}", name="theirs").mock(return_value=foreign)
    policy_routes.router.get(f"/api/policies/{theirs}/document").mock(return_value=foreign)
    missing = problem(404, "resource-not-found", "Poliçe bulunamadı")
    policy_routes.router.get(f"/api/policies/{made_up}").mock(return_value=missing)
    policy_routes.router.get(f"/api/policies/{made_up}/document").mock(return_value=missing)

    one = await api.get(f"/api/v1/policies/{theirs}{path}")
    other = await api.get(f"/api/v1/policies/{made_up}{path}")
    assert one.status_code == other.status_code == 404
    shown = {k: v for k, v in one.json().items() if k != "requestId"}
    assert shown == {k: v for k, v in other.json().items() if k != "requestId"}
    assert shown["code"] == "not_found"
    assert "müşteri" not in one.text and "bulunamadı" not in other.text


async def test_sending_another_customers_policy_is_not_found(
    api: httpx.AsyncClient, policy_routes: FakeInsurUp
) -> None:
    theirs = "65f1c0ffee0ddba11ca5e888"
    policy_routes.router.post(f"/api/policies/{theirs}/document/send").mock(
        return_value=problem(403, "forbidden", "Bu poliçe başka bir müşteriye aittir")
    )
    answer = await api.post(
        f"/api/v1/policies/{theirs}/document/send", json={"email": "a@example.com"}, headers=CSRF
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
    assert "müşteri" not in answer.text
