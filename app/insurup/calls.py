"""How one call to InsurUp is made: headers, the bearer token (renewed once after a 401), the
JSON body, bounded retries, metrics, logs, and every failure translated into the gateway's
errors. `client.py` says what to call."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
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
from app.telemetry.metrics import INSURUP_CALLS, INSURUP_SECONDS

log = logging.getLogger("app.insurup")

W = TypeVar("W", bound=BaseModel)
T = TypeVar("T")

# Reads are retried on connection failures and on 502/503, twice at most with a short pause:
# long back-offs would only move the wait to the customer.
READ_RETRY_STATUSES = frozenset({502, 503})
READ_RETRY_PAUSES = (0.05, 0.2)
_UNEXPECTED = "The insurance platform sent an unexpected answer"


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


class InsurUpCalls:
    """Sends requests through the one shared `httpx.AsyncClient` of the process."""

    def __init__(self, http: httpx.AsyncClient, *, document_hosts: Sequence[str] = ()) -> None:
        self._http = http
        self._document_hosts = tuple(document_hosts)

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
            INSURUP_CALLS.labels(operation, type(exc).__name__).inc()
            raise error_for_transport(exc) from exc
        INSURUP_SECONDS.labels(operation).observe(time.perf_counter() - started)
        INSURUP_CALLS.labels(operation, str(response.status_code)).inc()
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
            INSURUP_CALLS.labels(operation, "bad_body").inc()
            log.warning("insurup answer is not JSON", extra={"operation": operation})
            raise UpstreamError("The insurance platform sent an unreadable answer") from exc
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
                response = await self._http.request(
                    method, url, content=content, headers=headers, params=params
                )
            except httpx.TransportError as exc:
                INSURUP_SECONDS.labels(operation).observe(time.perf_counter() - started)
                retry = may_retry_failure(exc, read_only=read_only, attempt=attempt)
                outcome = "retry" if retry else type(exc).__name__
                INSURUP_CALLS.labels(operation, outcome).inc()
                log.warning(
                    "insurup call failed",
                    extra={"operation": operation, "error": type(exc).__name__, "retry": retry},
                )
                if not retry:
                    raise error_for_transport(exc) from exc
            else:
                elapsed = time.perf_counter() - started
                INSURUP_SECONDS.labels(operation).observe(elapsed)
                status = response.status_code
                retry = may_retry_status(status, read_only=read_only, attempt=attempt)
                INSURUP_CALLS.labels(operation, "retry" if retry else str(status)).inc()
                # Per call detail is for debugging; the access line and metrics cover the rest.
                log.debug(
                    "insurup call",
                    extra={"operation": operation, "status": status, "ms": round(elapsed * 1000)},
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
