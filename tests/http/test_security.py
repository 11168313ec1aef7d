"""Findings of the outside attack test, each fixed and held here: no lock-out of a customer
by someone who knows their identity number, bounded SMS sends, bodies refused before they are
read (and the browser guard before that), security headers, operations surfaces closed in
production."""

import json
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.config import Settings
from tests.conftest import PUBLIC, AppFactory, app_of
from tests.fake_insurup import FakeInsurUp, problem
from tests.helpers import CSRF, LOGIN_BODY

MIB = 1024 * 1024
DEMO_FILES = Path(__file__).resolve().parents[2] / "app" / "demo" / "static"
METRICS_TOKEN = "m3tr1cs-" + "0123456789abcdef" * 2


@asynccontextmanager
async def from_address(api: httpx.AsyncClient, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same app, connecting from `address`."""
    transport = httpx.ASGITransport(app=app_of(api), client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC) as other:
        yield other


def _insurup_checks_birth_dates(insurup: FakeInsurUp) -> None:
    def login(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("birthDate") != LOGIN_BODY["birthDate"]:
            return problem(422, "business-validation", "Kimlik bilgileri doğrulanamadı")
        return insurup.login(request)

    insurup.router["login"].side_effect = login


WRONG_DETAILS = {**LOGIN_BODY, "birthDate": "1991-02-03"}

# -- 2. sign-in allowances -------------------------------------------------------------------


async def test_five_failed_sign_ins_from_a_stranger_do_not_lock_the_owner_out(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    _insurup_checks_birth_dates(insurup)
    async with (
        make_app() as api,
        from_address(api, "203.0.113.66") as attacker,
        from_address(api, "198.51.100.7") as owner,
    ):
        tries = [
            (await attacker.post("/api/v1/session", json=WRONG_DETAILS, headers=CSRF)).status_code
            for _ in range(6)
        ]
        # The stranger spends their own address's allowance for this identity...
        assert tries == [422] * 5 + [429]
        # ...and the owner, elsewhere, signs in as usual.
        started = await owner.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        assert started.status_code == 202, started.text
        verified = await owner.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
        assert verified.status_code == 200


async def test_finished_sign_ins_do_not_count_against_the_identity(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    async with make_app() as api:
        for attempt in range(7):
            api.cookies.clear()
            started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
            assert started.status_code == 202, attempt
            verified = await api.post("/api/v1/session/mfa", json={"code": "123456"}, headers=CSRF)
            assert verified.status_code == 200, attempt


async def test_sms_codes_for_one_identity_are_capped_over_all_addresses(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    tight = settings.model_copy(update={"sms_rate_limit_per_identity": "3/10 minutes"})
    _insurup_checks_birth_dates(insurup)
    async with make_app(tight) as api:
        # Refused attempts send no SMS, so they spend none of the identity's SMS allowance.
        async with from_address(api, "203.0.113.66") as attacker:
            for _ in range(5):
                answer = await attacker.post("/api/v1/session", json=WRONG_DETAILS, headers=CSRF)
                assert answer.status_code == 422
        statuses = []
        for n in range(4):
            async with from_address(api, f"198.51.100.{n + 1}") as somebody:
                answer = await somebody.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
                statuses.append(answer.status_code)
    assert statuses == [202, 202, 202, 429]
    assert answer.json()["code"] == "rate_limited"
    assert int(answer.headers["retry-after"]) > 0
    assert insurup.router["login"].call_count == 5 + 3  # the fourth never reached InsurUp


def test_the_default_sms_cap_cannot_be_spent_from_one_address() -> None:
    """One address may start `login_rate_limit_per_identity` attempts per window; the SMS cap
    must be above that rate, or one address could exhaust it for everybody."""
    from limits import parse

    defaults = Settings(_env_file=None)
    per_address = parse(defaults.login_rate_limit_per_identity)
    per_identity = parse(defaults.sms_rate_limit_per_identity)
    assert per_identity.amount / per_identity.get_expiry() > (
        per_address.amount / per_address.get_expiry()
    )


# -- 5. body limit, and the browser guard before the body ------------------------------------


def _chunks(pulled: list[int], total: int = 100 * MIB) -> AsyncIterator[bytes]:
    chunk = b"x" * MIB

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(total // MIB):
            pulled.append(len(chunk))
            yield chunk

    return chunks()


async def _post_huge(
    api: httpx.AsyncClient, headers: dict[str, str], *, declared: bool
) -> tuple[httpx.Response, list[int], int]:
    """POST 100 MB to the sign-in route; what came back, what was read, the memory peak."""
    pulled: list[int] = []
    sent = {"Content-Type": "application/json", **headers}
    if declared:
        sent["Content-Length"] = str(100 * MIB)
    tracemalloc.start()
    try:
        answer = await api.post("/api/v1/session", content=_chunks(pulled), headers=sent)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return answer, pulled, peak


async def test_a_100_mb_body_is_refused_from_its_length_without_reading_it(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    answer, pulled, peak = await _post_huge(client, CSRF, declared=True)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "payload_too_large"
    assert pulled == []  # not one byte of the body was asked for
    assert peak < 8 * MIB  # memory stays flat
    assert insurup.router["login"].call_count == 0


async def test_a_100_mb_chunked_body_is_cut_off_at_the_limit(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    answer, pulled, peak = await _post_huge(client, CSRF, declared=False)
    assert answer.status_code == 413
    assert answer.json()["code"] == "payload_too_large"
    assert len(pulled) == 1  # the first chunk already passed the 64 KiB limit
    assert peak < 8 * MIB
    assert insurup.router["login"].call_count == 0


@pytest.mark.parametrize("declared", [True, False])
@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({**CSRF, "Origin": "https://evil.example"}, "origin_not_allowed"),
        ({"Origin": PUBLIC}, "csrf_required"),
    ],
)
async def test_a_foreign_or_csrf_less_post_is_refused_before_its_body_is_read(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, declared: bool
) -> None:
    answer, pulled, _ = await _post_huge(client, headers, declared=declared)
    assert answer.status_code == 403
    assert answer.json()["code"] == code
    assert pulled == []


async def test_bearer_requests_skip_the_browser_guard_but_not_the_body_limit(
    client: httpx.AsyncClient,
) -> None:
    answer, pulled, _ = await _post_huge(
        client, {"X-Session-Transport": "bearer", "Origin": "https://evil.example"}, declared=True
    )
    assert answer.status_code == 413
    assert pulled == []


async def test_the_body_limit_is_a_setting(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1024})
    async with make_app(small) as api:
        padded = {**LOGIN_BODY, "padding": "x" * 2000}
        refused = await api.post("/api/v1/session", json=padded, headers=CSRF)
        fits = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert refused.status_code == 413
    assert fits.status_code == 202


async def test_the_payment_callback_is_not_under_the_browser_guard(
    client: httpx.AsyncClient,
) -> None:
    """The provider's page posts the customer back from its own origin, without X-CSRF."""
    answer = await client.post(
        "/api/v1/payments/callback/" + "t" * 43,
        data={"status": "ok"},
        headers={"Origin": "https://bank.example"},
    )
    assert answer.status_code != 403


# -- 6. security headers ---------------------------------------------------------------------


def _production(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(
        update={
            "env": "production",
            "payment_result_url": "https://shop.example/payment-result",
            **overrides,
        }
    )


async def test_api_answers_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/session")
    assert answer.status_code == 401
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in answer.headers  # plain http in development


async def test_production_adds_hsts(make_app: AppFactory, settings: Settings) -> None:
    async with make_app(_production(settings)) as api:
        answer = await api.get("/api/v1/session")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert int(answer.headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31536000


async def test_the_demo_gets_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    answer = await client.get("/demo/")
    assert answer.status_code == 200
    policy = {
        part.split()[0]: part.split()[1:]
        for part in answer.headers["content-security-policy"].split(";")
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("unsafe" in value for values in policy.values() for value in values)
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    module = await client.get("/demo/app.js")
    assert module.headers["content-security-policy"] == answer.headers["content-security-policy"]


class _InlineFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag} {name}=")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append("inline script text")


@pytest.mark.parametrize("page", sorted(DEMO_FILES.rglob("*.html")), ids=lambda p: p.name)
def test_the_demo_pages_have_no_inline_script_or_style(page: Path) -> None:
    """The demo's CSP allows no inline code: a page that grows some would break under it."""
    finder = _InlineFinder()
    finder.feed(page.read_text(encoding="utf-8"))
    assert finder.found == []


# -- 4. operations surfaces ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/redoc", "/openapi.json"])
async def test_production_hides_metrics_and_docs(
    make_app: AppFactory, settings: Settings, path: str
) -> None:
    async with make_app(_production(settings)) as api:
        answer = await api.get(path)
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


async def test_production_readiness_says_only_ready_to_the_public(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    async with make_app(_production(settings, metrics_token=SecretStr(METRICS_TOKEN))) as api:
        public = await api.get("/readyz")
        wrong = await api.get("/readyz", headers={"Authorization": "Bearer " + "x" * 40})
        operator = await api.get("/readyz", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert public.status_code == 200
    assert public.json() == {"status": "ready"}
    assert wrong.json() == {"status": "ready"}
    assert operator.json() == {"status": "ready", "redis": "ok", "insurup": "ok"}
    assert insurup.router["root"].call_count == 1  # only the operator's probe asked InsurUp


async def test_production_metrics_answer_the_token_only(
    make_app: AppFactory, settings: Settings
) -> None:
    async with make_app(_production(settings, metrics_token=SecretStr(METRICS_TOKEN))) as api:
        without = await api.get("/metrics")
        wrong = await api.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        right = await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert without.status_code == wrong.status_code == 404
    assert right.status_code == 200
    assert "bff_http_requests_total" in right.text or "bff_" in right.text


async def test_docs_can_be_turned_on_in_production(
    make_app: AppFactory, settings: Settings
) -> None:
    async with make_app(_production(settings, docs_enabled=True)) as api:
        assert (await api.get("/docs")).status_code == 200
        assert (await api.get("/openapi.json")).json()["info"]["title"]


async def test_development_keeps_docs_and_metrics_open(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    assert (await client.get("/docs")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
    assert set((await client.get("/readyz")).json()) == {"status", "redis", "insurup"}
