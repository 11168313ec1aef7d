"""CORS: what a browser on the shop's origin (and on any other) is told, through the whole app,
and, answer for answer, the same headers Starlette's own `CORSMiddleware` gives (the gateway's
one middleware answers preflights with it and adds its headers to every other answer)."""

import itertools
from typing import Any

import httpx
import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Message, Receive, Scope, Send

from app.http.guard import BrowserGuard
from app.http.middleware import GatewayMiddleware
from tests.conftest import PUBLIC
from tests.helpers import CSRF, LOGIN_BODY

FOREIGN = "https://evil.example"
ALLOWED_HEADERS = [
    "Content-Type",
    "X-CSRF",
    "X-Request-ID",
    "Idempotency-Key",
    "Authorization",
    "X-Session-Transport",
]
EXPOSED = ["X-Request-ID", "Retry-After"]


def _preflight(origin: str, method: str = "POST", headers: str | None = None) -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        asked["Access-Control-Request-Headers"] = headers
    return asked


async def test_the_shops_preflight_is_answered(client: httpx.AsyncClient) -> None:
    answer = await client.options(
        "/api/v1/session", headers=_preflight(PUBLIC, "POST", "content-type,x-csrf")
    )
    assert answer.status_code == 200
    assert answer.text == "OK"
    assert answer.headers["access-control-allow-origin"] == PUBLIC
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-methods"] == "GET, POST, DELETE"
    allowed = {h.strip().lower() for h in answer.headers["access-control-allow-headers"].split(",")}
    assert {h.lower() for h in ALLOWED_HEADERS} <= allowed
    assert answer.headers["access-control-max-age"] == "600"
    assert answer.headers["vary"].startswith("Origin")
    assert answer.headers["x-request-id"]
    assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("asked", "failure"),
    [
        (_preflight(FOREIGN), "origin"),
        (_preflight(PUBLIC, "PATCH"), "method"),
        (_preflight(PUBLIC, "POST", "x-something-else"), "headers"),
    ],
)
async def test_other_preflights_are_refused(
    client: httpx.AsyncClient, asked: dict[str, str], failure: str
) -> None:
    answer = await client.options("/api/v1/session", headers=asked)
    assert answer.status_code == 400
    assert answer.text == f"Disallowed CORS {failure}"
    if failure == "origin":
        assert "access-control-allow-origin" not in answer.headers


async def test_the_shop_may_read_answers_with_credentials(client: httpx.AsyncClient) -> None:
    answer = await client.get("/api/v1/session", headers={"Origin": PUBLIC})
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == PUBLIC
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-expose-headers"] == ", ".join(EXPOSED)
    assert answer.headers["vary"] == "Origin"


async def test_a_foreign_page_is_not_told_it_may_read(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz", headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in answer.headers
    assert answer.headers["vary"] == "Origin"
    plain = await client.get("/healthz")
    assert "access-control-allow-credentials" not in plain.headers
    assert plain.headers["vary"] == "Origin"


async def test_guard_refusals_carry_cors_headers(client: httpx.AsyncClient) -> None:
    """The shop's page can read why its request was refused."""
    answer = await client.post("/api/v1/session", json=LOGIN_BODY, headers={"Origin": PUBLIC})
    assert answer.status_code == 403
    assert answer.json()["code"] == "csrf_required"
    assert answer.headers["access-control-allow-origin"] == PUBLIC
    foreign = await client.post(
        "/api/v1/session", json=LOGIN_BODY, headers={**CSRF, "Origin": FOREIGN}
    )
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers


# -- answer for answer, Starlette's CORSMiddleware ----------------------------------------------

# What the gateway adds besides CORS (request id, security headers): not compared.
_OWN = {b"x-request-id", b"x-content-type-options", b"referrer-policy", b"cache-control"}


def _inner(vary: str | None) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/plain")]
        if vary is not None:
            headers.append((b"vary", vary.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"inner"})

    return app


async def _call(app: Any, method: str, headers: list[tuple[str, str]]) -> tuple[Any, ...]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": "/not-api",  # outside /api/: the browser guard has nothing to say
        "raw_path": b"/not-api",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 443),
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    kept = [(k, v) for k, v in start.get("headers", []) if k not in _OWN]
    return start["status"], kept, b"".join(m.get("body", b"") for m in sent[1:])


_ORIGINS: list[list[str]] = [[], [PUBLIC], [FOREIGN], [PUBLIC + "/"], ["null"], [FOREIGN, PUBLIC]]
_ASKED: list[list[tuple[str, str]]] = [
    [],
    [("Access-Control-Request-Method", "GET")],
    [("Access-Control-Request-Method", "PATCH")],
    [("Access-Control-Request-Method", "post")],
    [("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "X-CSRF")],
    [
        ("Access-Control-Request-Method", "DELETE"),
        ("Access-Control-Request-Headers", " authorization , idempotency-key"),
    ],
    [("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Headers", "x-other")],
    [("Access-Control-Request-Method", "GET"), ("Access-Control-Request-Private-Network", "1")],
]


@pytest.mark.parametrize(
    ("origins", "credentials"),
    [([PUBLIC], True), ([PUBLIC, "http://localhost:8000"], True), (["*"], True), (["*"], False)],
)
async def test_the_same_cors_answers_as_starlettes_middleware(
    origins: list[str], credentials: bool
) -> None:
    policy: dict[str, Any] = {
        "allow_origins": origins,
        "allow_credentials": credentials,
        "allow_methods": ["GET", "POST", "DELETE"],
        "allow_headers": ALLOWED_HEADERS,
        "expose_headers": EXPOSED,
        "max_age": 600,
    }
    guard = BrowserGuard(origins=origins, max_body_bytes=1024)
    compared = 0
    for vary, method, sent_origins, asked in itertools.product(
        (None, "Accept-Encoding"), ("GET", "POST", "OPTIONS"), _ORIGINS, _ASKED
    ):
        headers = [("Origin", o) for o in sent_origins] + asked
        theirs = await _call(CORSMiddleware(_inner(vary), **policy), method, headers)
        ours = await _call(GatewayMiddleware(_inner(vary), guard=guard, **policy), method, headers)
        assert ours == theirs, (method, headers, vary)
        compared += 1
    assert compared == 2 * 3 * len(_ORIGINS) * len(_ASKED)
