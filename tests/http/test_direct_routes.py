"""Direct routes (`app/http/direct.py`) answer exactly as FastAPI's own handler would: the
same requests to two replicas, one serving them directly and one through FastAPI's handler,
get the same answers, success and every kind of refusal alike."""

from typing import Any

import httpx
import pytest
from fastapi import routing

import app.http.direct as direct
from app.main import create_app
from tests.conftest import AppFactory
from tests.fake_insurup import PROPOSAL_ID, FakeInsurUp, product
from tests.fixtures.apps import app_of
from tests.helpers import CSRF, bearer, sign_in_bearer, sign_in_cookie

QUOTE = f"/api/v1/quotes/{PROPOSAL_ID}"
PRODUCT = f"{QUOTE}/products/p1"
TOO_LONG = "a" * 65


def test_the_direct_routes_are_the_quote_routes_that_need_nothing_more() -> None:
    # Included routers' routes as the OpenAPI document walks them (`app.http.docs`).
    served = {
        (method, route.path_format)
        for route in routing.iter_route_contexts(create_app().routes)
        if isinstance(route.original_route, routing.APIRoute)
        and direct.is_direct(route.original_route)
        for method in route.methods or ()
    }
    # Those needing a query, a body or a model-validated answer keep FastAPI's handler.
    assert served == {
        ("GET", "/api/v1/quotes/{quoteId}"),
        ("GET", "/api/v1/quotes/{quoteId}/products/{productId}/information-form"),
        ("POST", "/api/v1/quotes/{quoteId}/products/{productId}/callback-request"),
        ("POST", "/api/v1/quotes/{quoteId}/products/{productId}/retry"),
    }


def _comparable(answer: httpx.Response) -> tuple[int, str | None, object]:
    body: object = answer.json() if answer.content else None
    if isinstance(body, dict):
        body.pop("requestId", None)  # each request's own
    return answer.status_code, answer.headers.get("content-type"), body


async def test_a_direct_route_answers_as_fastapis_handler_does(
    make_app: AppFactory, insurup: FakeInsurUp, monkeypatch: pytest.MonkeyPatch
) -> None:
    insurup.proposal_products = [product("p1"), product("p2", state="WAITING")]
    validated: list[object] = []

    def counted(*args: Any) -> Any:
        validated.append(args)
        return params_to_args(*args)

    params_to_args = direct.request_params_to_args  # type: ignore[attr-defined]
    monkeypatch.setattr(direct, "request_params_to_args", counted)
    async with make_app() as served_directly, make_app() as served_by_fastapi:
        # Any dependency override sends every request through FastAPI's handler.
        app_of(served_by_fastapi).dependency_overrides[_never_called] = _never_called
        token = await sign_in_bearer(served_directly)
        await sign_in_cookie(served_directly)
        served_by_fastapi.cookies = served_directly.cookies
        signed = bearer(token)
        requests: list[tuple[str, str, dict[str, str]]] = [
            ("GET", QUOTE, signed),
            ("GET", QUOTE, {}),  # the cookie session
            ("GET", QUOTE, {"Authorization": "Bearer not-a-session"}),
            ("GET", "/api/v1/quotes/ffffffffffffffffffffffff", signed),  # not this customer's
            ("GET", "/api/v1/quotes/bad%21id", signed),
            ("GET", f"/api/v1/quotes/{TOO_LONG}", signed),
            ("GET", "/api/v1/quotes/bad%21id", {"Authorization": "Bearer not-a-session"}),
            ("POST", f"{PRODUCT}/retry", {}),  # cookie without X-CSRF
            ("POST", f"/api/v1/quotes/bad%21id/products/{TOO_LONG}/retry", {**CSRF}),
            ("POST", "/api/v1/quotes/bad%21id/products/p1/callback-request", signed),
            ("GET", f"/api/v1/quotes/{PROPOSAL_ID}/products/bad%21/information-form", signed),
            ("DELETE", QUOTE, signed),
        ]
        for method, path, headers in requests:
            await _same_answer(served_directly, served_by_fastapi, method, path, headers)
        jar = served_directly.cookies
        served_directly.cookies = served_by_fastapi.cookies = httpx.Cookies()
        await _same_answer(served_directly, served_by_fastapi, "GET", QUOTE, {})  # no session
        served_directly.cookies = served_by_fastapi.cookies = jar
        direct_validations = len(validated)
        assert direct_validations > 0  # the direct handler did serve those

        insurup.router["proposal"].side_effect = lambda _: httpx.Response(500)
        one = await served_directly.get(QUOTE, headers=signed)
        other = await served_by_fastapi.get(QUOTE, headers=signed)
        assert one.status_code == 502
        assert _comparable(one) == _comparable(other)
        assert len(validated) == direct_validations + 1  # FastAPI's handler never came here


async def _same_answer(
    one: httpx.AsyncClient,
    other: httpx.AsyncClient,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    first = await one.request(method, path, headers=headers)
    second = await other.request(method, path, headers=headers)
    assert _comparable(first) == _comparable(second), (method, path, first.text, second.text)


async def _never_called() -> None:
    raise AssertionError("not a dependency of any route")
