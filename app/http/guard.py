"""The browser guard and the body limit, applied by the gateway's one ASGI middleware
(`app.http.middleware.GatewayMiddleware`) before any byte of the body is read (a route
dependency runs only after FastAPI has parsed the body).

- Cookie-carried requests to the API: an `Origin` outside the allowlist is `403
  origin_not_allowed`, an unsafe method without `X-CSRF: 1` is `403 csrf_required`. Bearer
  requests carry their credential explicitly, so a foreign page cannot ride on them; the
  payment provider's callback comes from the provider's pages, so it is exempt.
- Every request: a `Content-Length` above the limit is `413 payload_too_large` at once; a
  body without one (chunked) is counted as it is read and refused when it passes the limit.

The middleware reads the headers once and hands the guard what it needs: nothing else on
the way in, it sits on the hot path.
"""

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import CsrfRequired, GatewayError, OriginNotAllowed, PayloadTooLarge
from app.http.problems import render

_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _BodyTooLarge(Exception):
    """Raised into the app from `receive` when a chunked body passes the limit."""


class BrowserGuard:
    def __init__(
        self,
        *,
        origins: Iterable[str],
        max_body_bytes: int,
        exempt_prefixes: Iterable[str] = (),
    ) -> None:
        self._origins = frozenset(o.rstrip("/").encode("latin-1") for o in origins)
        self._limit = max_body_bytes
        self._exempt = tuple(exempt_prefixes)

    def refusal(
        self,
        *,
        path: str,
        method: str,
        origin: bytes | None,
        csrf: bytes | None,
        bearer: bool,
        transport: bytes | None,
        length: bytes | None,
    ) -> GatewayError | None:
        """Why the request is refused before its body is read, or None. Each header as the
        request's last one of that name says it."""
        if (
            path.startswith("/api/")
            and not bearer
            and (transport is None or bytes(transport).lower() != b"bearer")
            and not path.startswith(self._exempt)
        ):
            if origin is not None and bytes(origin).rstrip(b"/") not in self._origins:
                return OriginNotAllowed()
            if method in _UNSAFE and csrf != b"1":
                return CsrfRequired()
        if length is not None and length.isdigit() and int(length) > self._limit:
            return self._too_large()
        return None

    @staticmethod
    def counts(method: str, length: bytes | None) -> bool:
        """Whether the body must be counted as it is read: a declared length binds the
        server's framing (the body cannot exceed it), and no route reads the body of a GET
        (unread bytes are the server's to drop)."""
        return length is None and method in _UNSAFE

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The body may be at most {self._limit} bytes")

    async def counted(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Run `app` on a body of unknown length: count it as the app reads it; past the
        limit, stop reading and answer 413 instead of whatever the app would have answered."""
        received = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self._limit:
                    too_large = True
                    raise _BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # The app answered its own way to the exception (a 400, a 500): ours instead.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await render(self._too_large())(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not started:
                await render(self._too_large())(scope, receive, send)
