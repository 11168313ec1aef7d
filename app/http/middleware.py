"""The gateway's one ASGI middleware (no per-request task or body copying): request id in
and out, CORS, the browser guard and the body limit (`guard.py`), `Cache-Control: no-store` on
the API, security headers on every answer (HSTS in production), metrics and one access line.

It does what three stacked middlewares did (request context, Starlette's `CORSMiddleware`,
the browser guard), in the same order and with the same answers, with one pass over the
request headers and one wrapper around `send`: each layer cost a call, a `send` wrapper and
its own header parsing on every request (`make layers` measures it).
"""

import os
import re
import time
from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import request_id_var
from app.http.guard import BrowserGuard
from app.http.problems import render
from app.telemetry.logging import access
from app.telemetry.metrics import count_request

_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _new_request_id() -> str:
    """What `uuid.uuid4().hex` gives (version and variant bits set), without the UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _route_of(scope: Scope) -> str:
    # The template (`/api/v1/payments/callback/{callbackToken}`), never the raw path: raw
    # paths may hold single-use tokens, and templates keep metric labels few.
    route: object = scope.get("route")
    path: object = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


# Every answer: no MIME sniffing, no Referer with the gateway's URLs (they may carry ids).
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
# Production is https only: browsers keep to https for two years, subdomains included.
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class GatewayMiddleware:
    """Outermost of the gateway's own layers; what it does, in order:

    1. The request id: the client's `X-Request-ID` (the first one) if sane, else a new one.
    2. CORS, as Starlette's `CORSMiddleware` with the `allow_*`/`expose_headers` settings
       answers: preflights are answered by that very class; other answers get its headers
       here, step for step as its `send` adds them.
    3. The browser guard and the body limit (refusals carry the CORS headers).
    4. On every answer: `X-Request-ID`, `Cache-Control: no-store` on the API, the security
       headers; afterwards the request's metrics and access line.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        guard: BrowserGuard,
        allow_origins: Collection[str],
        allow_methods: Collection[str],
        allow_headers: Collection[str],
        expose_headers: Collection[str],
        allow_credentials: bool = False,
        max_age: int = 600,
        hsts: bool = False,
    ) -> None:
        self.app = app
        self._guard = guard
        self._cors = CORSMiddleware(
            app,
            allow_origins=allow_origins,
            allow_methods=allow_methods,
            allow_headers=allow_headers,
            allow_credentials=allow_credentials,
            expose_headers=expose_headers,
            max_age=max_age,
        )
        self._headers = [*_SECURITY_HEADERS, _HSTS] if hsts else _SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # One pass: the first of a repeated header where Starlette's `Headers.get` reads it
        # (request id, CORS's Origin), the last where the guard always read the last one.
        request_id = first_origin = origin = csrf = length = transport = None
        bearer = preflight = False
        for name, value in scope["headers"]:
            if name == b"origin":
                if first_origin is None:
                    first_origin = value
                origin = value
            elif name == b"authorization":
                scheme, _, credential = bytes(value).partition(b" ")
                bearer = scheme.lower() == b"bearer" and bool(credential.strip())
            elif name == b"x-csrf":
                csrf = value
            elif name == b"content-length":
                length = value
            elif name == b"x-request-id":
                if request_id is None:
                    request_id = bytes(value).decode("latin-1")
            elif name == b"x-session-transport":
                transport = value
            elif name == b"access-control-request-method":
                preflight = True
        if request_id is None or not _SANE_ID.match(request_id):
            request_id = _new_request_id()
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        method: str = scope["method"]
        path: str = scope["path"]
        is_api = path.startswith("/api/")
        cors = self._cors
        cors_origin = None if first_origin is None else bytes(first_origin).decode("latin-1")
        preflight = preflight and cors_origin is not None and method == "OPTIONS"

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if not preflight:
                    message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                if not preflight:
                    # Starlette's CORSMiddleware.send, step for step.
                    if cors_origin is not None:
                        headers.update(cors.simple_headers)
                    if cors_origin is not None and (
                        cors.allow_credentials
                        if cors.allow_all_origins
                        else cors.is_allowed_origin(origin=cors_origin)
                    ):
                        CORSMiddleware.allow_explicit_origin(headers, cors_origin)
                    else:
                        headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
                headers["X-Request-ID"] = request_id
                if is_api:
                    headers["Cache-Control"] = "no-store"
                headers.raw.extend(self._headers)
            await send(message)

        try:
            if preflight:
                answer = cors.preflight_response(request_headers=Headers(scope=scope))
                await answer(scope, receive, send_with_headers)
                return
            guard = self._guard
            refusal = guard.refusal(
                path=path,
                method=method,
                origin=origin,
                csrf=csrf,
                bearer=bearer,
                transport=transport,
                length=length,
            )
            if refusal is not None:
                await render(refusal)(scope, receive, send_with_headers)
            elif guard.counts(method, length):
                await guard.counted(self.app, scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            count_request(method, route, status, elapsed)
            access(method, route, status, round(elapsed * 1000, 1))
            request_id_var.reset(token)


class WithHeaders:
    """An ASGI app whose every answer carries `headers` too (the /demo files' CSP)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self._headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).raw.extend(self._headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)
