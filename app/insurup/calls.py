"""How one call to InsurUp is made: headers, the bearer token (renewed once after a 401), the
JSON body, bounded retries, metrics, logs, and every failure translated into the gateway's
errors. `client.py` says what to call."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Protocol, TypeVar
from urllib.parse import quote

import httpx
import orjson
from pydantic import BaseModel, ValidationError

from app.context import request_id_var
from app.errors import SessionExpired, UpstreamError
from app.insurup.errors import (
    InsurUpUnauthorized,
    error_for_graphql,
    error_for_status,
    error_for_transport,
)
from app.insurup.transport import request_never_sent
from app.telemetry.metrics import INSURUP_CALLS, INSURUP_SECONDS, Children

log = logging.getLogger("app.insurup")

W = TypeVar("W", bound=BaseModel)
T = TypeVar("T")

# Reads are retried on connection failures and on 502/503, twice at most with a short pause:
# long back-offs would only move the wait to the customer.
READ_RETRY_STATUSES = frozenset({502, 503})
READ_RETRY_PAUSES = (0.05, 0.2)
_UNEXPECTED = "The insurance platform sent an unexpected answer"


_CALL_COUNTS = Children(INSURUP_CALLS)
_CALL_TIMES = Children(INSURUP_SECONDS)


def count_call(operation: str, outcome: str) -> None:
    _CALL_COUNTS(operation, outcome).inc()


def time_call(operation: str, seconds: float) -> None:
    _CALL_TIMES(operation).observe(seconds)


class Credential(Protocol):
    """Where a call's bearer token comes from (a customer's session, a service account)."""

    async def token(self) -> str:
        """A token to send now (renewed ahead of its expiry)."""
        ...

    async def renewed(self) -> str:
        """A newer token, after InsurUp refused the one sent."""
        ...


class FixedToken:
    """A token that cannot be renewed (one just issued at sign-in): a 401 stands."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token

    async def renewed(self) -> str:
        raise InsurUpUnauthorized()


def parse(model: type[W], data: object) -> W:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UpstreamError(_UNEXPECTED) from exc


def parse_list(model: type[W], data: object) -> list[W]:
    if not isinstance(data, list):
        raise UpstreamError(_UNEXPECTED)
    return [parse(model, item) for item in data]


def id_of(answer: object, *names: str) -> str:
    """Created-resource answers: `{"id": ...}`, `{"proposalId": ...}` or a bare string."""
    if isinstance(answer, str) and answer:
        return answer
    if isinstance(answer, dict):
        for name in names:
            value = answer.get(name)
            if isinstance(value, str) and value:
                return value
    raise UpstreamError(_UNEXPECTED)


def seg(value: str) -> str:
    """One path segment: ids come from customers, so nothing in them may change the path."""
    return quote(value, safe="")


async def authorized(auth: Credential | None, attempt: Callable[[str | None], Awaitable[T]]) -> T:
    """One call with the credential's token; after a 401, once more with a renewed token."""
    if auth is None:
        return await attempt(None)
    try:
        return await attempt(await auth.token())
    except InsurUpUnauthorized:
        token = await auth.renewed()
    try:
        return await attempt(token)
    except InsurUpUnauthorized as exc:
        raise SessionExpired() from exc


# The headers `_send` sets on every call; the client's defaults of the same names give way.
_CALL_HEADERS = frozenset({b"x-request-id", b"accept-language", b"authorization", b"content-type"})


def no_cookies() -> CookieJar:
    """A jar that keeps no cookie. The process has one InsurUp client for every customer:
    a cookie InsurUp set on one customer's call (a balancer's, a session's) must not ride on
    the next customer's. InsurUp is token-based; it needs none."""
    # A jar, not `httpx.Cookies`: the client copies the cookies of a `Cookies` into a jar of
    # its own (dropping the policy) but uses a jar as it is.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class InsurUpCalls:
    """Sends requests through the one shared `httpx.AsyncClient` of the process."""

    def __init__(self, http: httpx.AsyncClient, *, document_hosts: Sequence[str] = ()) -> None:
        self._http = http
        self._document_hosts = tuple(document_hosts)
        # JSON calls go to the client's transport directly (`_exchange`): the same request
        # and transport as `AsyncClient.request`, without the per-call cost of its general
        # machinery (header and URL merging, auth flow, redirect loop, hooks, cookie parsing:
        # a tenth of the hot read path's instructions). Only for a client configured as ours
        # is, where that machinery does nothing; any other client goes the general way.
        # `_send` follows redirects itself (same origin, 307/308 only), as before.
        base = http.base_url
        plain = (
            http.auth is None
            and not (base.username or base.password)
            and not http.follow_redirects
            and not http.params
            and not any(http.event_hooks.values())
            and not http._mounts  # proxies: the transport depends on the URL
        )
        self._transport = http._transport if plain else None
        # The base as text, its path ending in "/" as httpx keeps it (`str()` drops a lone "/").
        self._base = f"{base.scheme}://{base.netloc.decode('ascii')}{base.raw_path.decode('ascii')}"
        self._timeout = http.timeout.as_dict()
        self._defaults = [
            (name, value) for name, value in http.headers.raw if name.lower() not in _CALL_HEADERS
        ]

    def may_follow(self, url: str) -> bool:
        """Whether a document address from InsurUp may be fetched: InsurUp's own origin, or
        https (default port) on a host of `document_hosts` (`host` or `*.domain`). Never any
        other address: whoever could shape that answer would have the gateway fetch it."""
        try:
            parts = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        base = self._http.base_url
        if (parts.scheme, parts.host, parts.port) == (base.scheme, base.host, base.port):
            return True
        return (
            parts.scheme == "https"
            and parts.port in (None, 443)
            and host_listed(parts.host, self._document_hosts)
        )

    async def open(self, operation: str, url: str, *, auth: Credential | None) -> httpx.Response:
        """A streamed GET (documents): the caller reads and closes the answer."""
        return await authorized(auth, lambda token: self._open(operation, url, token))

    async def _open(self, operation: str, url: str, token: str | None) -> httpx.Response:
        headers = {
            "X-Request-ID": request_id_var.get(),
            "Accept": "application/pdf, application/json",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = await self._stream(operation, url, headers)
        if response.status_code in _KEEP_METHOD_REDIRECTS:
            target = _same_origin_target(response)
            await response.aclose()
            if target is None:
                raise UpstreamError(_UNEXPECTED)
            response = await self._stream(operation, target, headers)
        if response.status_code >= 300:
            await response.aread()
            await response.aclose()
            raise error_for_status(response)
        return response

    async def _stream(
        self, operation: str, url: str | httpx.URL, headers: dict[str, str]
    ) -> httpx.Response:
        request = self._http.build_request("GET", url, headers=headers)
        started = time.perf_counter()
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            count_call(operation, type(exc).__name__)
            raise error_for_transport(exc) from exc
        time_call(operation, time.perf_counter() - started)
        count_call(operation, str(response.status_code))
        return response

    async def reachable(self) -> bool:
        """Whether InsurUp answers HTTP at all (any status will do); for readiness reports."""
        try:
            await self._http.get("/", timeout=2.0)
        except httpx.TransportError:
            return False
        return True

    async def graphql(self, operation: str, query: str, *, auth: Credential | None) -> object:
        return await authorized(auth, lambda token: self._graphql(operation, query, token))

    async def _graphql(self, operation: str, query: str, token: str | None) -> object:
        body = await self._json(
            operation, "POST", "/graphql", token=token, json={"query": query}, read_only=True
        )
        if not isinstance(body, dict):
            raise UpstreamError(_UNEXPECTED)
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            raise error_for_graphql(errors)
        data: object = body.get("data")
        return data

    async def json(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        auth: Credential | None = None,
        json: object | None = None,
        read_only: bool | None = None,
        params: dict[str, str] | None = None,
    ) -> object:
        reads = method == "GET" if read_only is None else read_only
        return await authorized(
            auth,
            lambda token: self._json(
                operation, method, path, token=token, json=json, read_only=reads, params=params
            ),
        )

    async def model(
        self,
        model: type[W],
        operation: str,
        path: str,
        *,
        auth: Credential | None = None,
    ) -> W:
        """A GET whose answer is one `model`, validated straight from the answer's bytes:
        pydantic's own JSON parser reads only what the model keeps, where `json` then `parse`
        build every field of the answer as Python objects first (a proposal: ~110,000 fewer
        instructions, a twentieth of a quote read). The same models and errors as `json` then
        `parse`, except that NaN, Infinity or an out-of-range number in a field the model does
        not keep is ignored here where orjson refuses the whole answer."""
        return await authorized(
            auth, lambda token: self._model(model, operation, path, token=token)
        )

    async def _model(self, model: type[W], operation: str, path: str, *, token: str | None) -> W:
        response = await self._send(operation, "GET", path, token=token, json=None, read_only=True)
        if response.status_code == 204 or not response.content:
            raise UpstreamError(_UNEXPECTED)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            # Told apart as `_json` tells them apart (pydantic's parser takes NaN, Infinity and
            # out-of-range numbers, which orjson refuses as not JSON).
            try:
                orjson.loads(response.content)
            except orjson.JSONDecodeError:
                raise self._unreadable(operation) from exc
            raise UpstreamError(_UNEXPECTED) from exc

    def _unreadable(self, operation: str) -> UpstreamError:
        count_call(operation, "bad_body")
        log.warning("insurup answer is not JSON", extra={"operation": operation})
        return UpstreamError("The insurance platform sent an unreadable answer")

    async def _json(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None,
        json: object | None,
        read_only: bool,
        params: dict[str, str] | None = None,
    ) -> object:
        response = await self._send(
            operation, method, path, token=token, json=json, read_only=read_only, params=params
        )
        if response.status_code == 204 or not response.content:
            return None
        try:
            body: object = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise self._unreadable(operation) from exc
        return body

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None,
        json: object | None,
        read_only: bool,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"X-Request-ID": request_id_var.get(), "Accept-Language": "tr-TR"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content = None if json is None else orjson.dumps(json)
        if content is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        url: str | httpx.URL = path
        redirected = False
        while True:
            started = time.perf_counter()
            try:
                response = await self._exchange(method, url, content, headers, params)
            except httpx.TransportError as exc:
                time_call(operation, time.perf_counter() - started)
                retry = may_retry_failure(exc, read_only=read_only, attempt=attempt)
                outcome = "retry" if retry else type(exc).__name__
                count_call(operation, outcome)
                log.warning(
                    "insurup call failed",
                    extra={"operation": operation, "error": type(exc).__name__, "retry": retry},
                )
                if not retry:
                    raise error_for_transport(exc) from exc
            else:
                elapsed = time.perf_counter() - started
                time_call(operation, elapsed)
                status = response.status_code
                retry = may_retry_status(status, read_only=read_only, attempt=attempt)
                count_call(operation, "retry" if retry else str(status))
                # Per call detail is for debugging; the access line and metrics cover the rest.
                if log.isEnabledFor(logging.DEBUG):
                    log.debug(
                        "insurup call",
                        extra={
                            "operation": operation,
                            "status": status,
                            "ms": round(elapsed * 1000),
                        },
                    )
                if status in _KEEP_METHOD_REDIRECTS:
                    # InsurUp's docs say `/api/*` is "routed to root": if that is an HTTP
                    # redirect, follow it once, on the same origin only, with method, body
                    # and token unchanged. Another host never sees the token.
                    target = _same_origin_target(response)
                    if target is None or redirected:
                        log.warning("insurup redirect refused", extra={"operation": operation})
                        raise UpstreamError(_UNEXPECTED)
                    url, params, redirected = target, None, True
                    continue
                if status < 400:
                    return response
                if not retry:
                    raise error_for_status(response)
            await asyncio.sleep(READ_RETRY_PAUSES[min(attempt, len(READ_RETRY_PAUSES) - 1)])
            attempt += 1

    async def _exchange(
        self,
        method: str,
        url: str | httpx.URL,
        content: bytes | None,
        headers: dict[str, str],
        params: dict[str, str] | None,
    ) -> httpx.Response:
        """`AsyncClient.request` for `_send`: the same request (URL joined to the base, the
        client's headers then ours, its timeouts for the transport to enforce), sent on the
        client's transport, its answer read, cookies kept as the client keeps them."""
        http, transport = self._http, self._transport
        if transport is None or http.is_closed or http.cookies:
            # The general way: another client setup, a closed client (httpx raises), or a
            # jar with cookies in it (never the gateway's: `no_cookies`).
            return await http.request(method, url, content=content, headers=headers, params=params)
        request = httpx.Request(
            method,
            self._url(url),
            params=params,
            content=content,
            # As httpx encodes header text (ASCII); the client's headers are bytes already.
            headers=[
                *self._defaults,
                *((k.encode(), v.encode("ascii")) for k, v in headers.items()),
            ],
            extensions={"timeout": dict(self._timeout)},
        )
        try:
            response = await transport.handle_async_request(request)
        except httpx.RequestError as exc:
            exc.request = request  # as httpx's send does
            raise
        response.request = request
        if "set-cookie" in response.headers:  # as httpx does; the gateway's jar refuses them
            http.cookies.extract_cookies(response)
        try:
            await response.aread()  # closes the stream: the connection goes back to the pool
        except BaseException:
            await response.aclose()
            raise
        return response

    def _url(self, url: str | httpx.URL) -> httpx.URL:
        """httpx's join of a URL to the base URL (its `_merge_url`)."""
        if isinstance(url, str) and url.startswith("/") and not url.startswith("//"):
            return httpx.URL(self._base + url[1:])
        merged = httpx.URL(url)
        if merged.is_absolute_url:
            return merged
        base = self._http.base_url
        return base.copy_with(raw_path=base.raw_path + merged.raw_path.lstrip(b"/"))


class Download:
    """An open upstream response, read chunk by chunk and closed by whoever streams it."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes():
                yield chunk
        except httpx.TransportError as exc:
            raise error_for_transport(exc) from exc
        finally:
            await self._response.aclose()


def is_pdf(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/pdf", "application/octet-stream")


_KEEP_METHOD_REDIRECTS = frozenset({307, 308})


def _same_origin_target(response: httpx.Response) -> httpx.URL | None:
    """Where a redirect points, if it stays on the origin the request went to."""
    location = response.headers.get("location")
    if not location:
        return None
    source = response.request.url
    target = source.join(location)
    if (target.scheme, target.host, target.port) != (source.scheme, source.host, source.port):
        return None
    return target


def host_listed(host: str, patterns: Sequence[str]) -> bool:
    """`host` is one of `patterns`: a name exactly, or under a `*.domain` (not the domain)."""
    host = host.lower().rstrip(".")
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def may_retry_status(status: int, *, read_only: bool, attempt: int) -> bool:
    """Reads are asked again after a 502/503, twice at most; writes never (they may have run)."""
    return read_only and status in READ_RETRY_STATUSES and attempt < len(READ_RETRY_PAUSES)


def may_retry_failure(exc: httpx.TransportError, *, read_only: bool, attempt: int) -> bool:
    # Any call may be sent again once when it provably never left (a stale pooled connection
    # or a refused connect); reads may also be repeated after a dropped connection.
    if request_never_sent(exc) and attempt == 0:
        return True
    if read_only and attempt < len(READ_RETRY_PAUSES):
        return isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
    return False
