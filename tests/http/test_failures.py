"""Upstream failures and Redis outages get their documented codes, never a stack trace."""

import httpx
import pytest
from prometheus_client import REGISTRY

from app.config import Settings
from tests.conftest import AppFactory
from tests.fake_insurup import FakeInsurUp
from tests.helpers import CSRF, LOGIN_BODY, bearer, sign_in_bearer


@pytest.mark.parametrize(
    ("upstream", "status", "code"),
    [
        (httpx.ReadTimeout("slow"), 504, "upstream_timeout"),
        (httpx.ConnectError("refused"), 502, "upstream_unavailable"),
        (httpx.Response(500, text="<html>Internal</html>"), 502, "upstream_error"),
        (httpx.Response(200, text="<html>not json</html>"), 502, "upstream_error"),
        (httpx.Response(200, json={"unexpected": True}), 502, "upstream_error"),
        (httpx.Response(429, headers={"Retry-After": "7"}), 503, "upstream_error"),
        (httpx.Response(403, json={"detail": "Yetkisiz"}), 403, "upstream_rejected"),
        (httpx.Response(409, json={"detail": "Çakışma"}), 409, "upstream_rejected"),
        (httpx.Response(404, json={"detail": "Yok"}), 404, "not_found"),
    ],
)
async def test_login_upstream_failures_map_to_documented_codes(
    client: httpx.AsyncClient,
    insurup: FakeInsurUp,
    upstream: httpx.Response | Exception,
    status: int,
    code: str,
) -> None:
    route = insurup.router["login"]
    route.side_effect = upstream if isinstance(upstream, Exception) else None
    if isinstance(upstream, httpx.Response):
        route.return_value = upstream
    answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert answer.status_code == status
    problem = answer.json()
    assert problem["code"] == code
    assert "Traceback" not in answer.text and "<html>" not in answer.text
    if status == 503:
        assert answer.headers["retry-after"] == "7"
    # A POST is repeated only when it provably never reached InsurUp (a refused connect).
    assert route.call_count == (2 if isinstance(upstream, httpx.ConnectError) else 1)


async def test_insurup_validation_detail_is_passed_on(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["login"].side_effect = None
    insurup.router["login"].return_value = httpx.Response(
        422,
        json={
            "type": "https://api.insurup.com/problems/business-validation",
            "detail": "Telefon numarası kayıtlı değil",
        },
    )
    answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert answer.status_code == 422
    assert answer.json()["code"] == "upstream_rejected"
    assert answer.json()["detail"] == "Telefon numarası kayıtlı değil"


async def test_reads_are_retried_on_503_but_bounded(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    token = await sign_in_bearer(client)
    me = insurup.router["me"]
    before = me.call_count
    busy = iter([httpx.Response(503)])
    me.side_effect = lambda request: next(busy, None) or insurup.me(request)
    assert (await client.get("/api/v1/customer", headers=bearer(token))).status_code == 200
    assert me.call_count == before + 2

    me.side_effect = None
    me.return_value = httpx.Response(503)
    failed = await client.get("/api/v1/customer", headers=bearer(token))
    assert failed.status_code == 502
    assert me.call_count == before + 2 + 3  # first try and two retries


async def test_a_post_that_never_left_is_sent_once_more(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    from app.insurup.transport import RequestNotSentError

    failures = iter([RequestNotSentError("stale connection")])

    def stale_then_fine(request: httpx.Request) -> httpx.Response:
        for failure in failures:
            raise failure
        return insurup.login(request)

    insurup.router["login"].side_effect = stale_then_fine
    answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert answer.status_code == 202
    assert insurup.router["login"].call_count == 2


async def test_redis_down_is_store_unavailable_and_not_ready(
    make_app: AppFactory, settings: Settings, insurup: FakeInsurUp
) -> None:
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with make_app(down) as api:
        session = await api.get("/api/v1/session", headers=bearer("x" * 43))
        assert session.status_code == 503
        assert session.json()["code"] == "store_unavailable"
        login = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
        assert login.status_code == 503
        assert login.json()["code"] == "store_unavailable"
        ready = await api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["redis"] == "unavailable"
        assert (await api.get("/healthz")).status_code == 200


async def test_ready_when_redis_answers_even_if_insurup_does_not(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["root"].side_effect = httpx.ConnectError("down")
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "redis": "ok", "insurup": "unreachable"}


async def test_an_unexpected_bug_is_a_bare_500_problem(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.router["login"].side_effect = RuntimeError("bug with secret access-0001-secret")
    async with make_app(raise_app_exceptions=False) as api:
        answer = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    assert "secret" not in answer.text and "RuntimeError" not in answer.text


async def test_metrics_count_insurup_calls_by_operation_and_outcome(
    client: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    await sign_in_bearer(client)
    text = (await client.get("/metrics")).text
    assert 'bff_insurup_calls_total{operation="login",outcome="200"}' in text
    assert 'bff_cases_total{outcome="created"}' in text
    assert "bff_requests_total" in text


async def test_every_request_is_counted_once_by_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    def seen() -> tuple[float, float, float]:
        labels = {"method": "GET", "route": "/api/v1/quotes/{quoteId}"}
        return (
            REGISTRY.get_sample_value("bff_requests_total", {**labels, "status": "401"}) or 0,
            REGISTRY.get_sample_value("bff_requests_total", {**labels, "status": "200"}) or 0,
            REGISTRY.get_sample_value(
                "bff_request_seconds_count", {"route": "/api/v1/quotes/{quoteId}"}
            )
            or 0,
        )

    before = seen()
    for _ in range(3):  # the first makes the label children, the others reuse them
        assert (await client.get("/api/v1/quotes/6911d24a134c60468e941880")).status_code == 401
    after = seen()
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (3, 0, 3)
