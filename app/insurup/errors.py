"""Translate InsurUp's answers and transport failures into the gateway's errors, in one place."""

from typing import Any

import httpx
import orjson

from app.errors import (
    GatewayError,
    NotFound,
    SessionExpired,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

_MAX_DETAIL = 300


class InsurUpUnauthorized(SessionExpired):
    """InsurUp said 401. The token keeper refreshes once and retries; if it escapes, the
    customer sees ``401 session_expired``."""


class RefreshRejected(SessionExpired):
    """InsurUp refused the refresh token for good: the session is over."""


class QueryRejected(UpstreamError):
    """InsurUp's GraphQL server refused the query itself (a field its schema lacks)."""


# Hot Chocolate's validation errors carry `HC....` codes; other servers say so in words.
_QUERY_CODES = frozenset({"GRAPHQL_VALIDATION_FAILED", "FIELD_NOT_FOUND"})


def _problem_detail(response: httpx.Response) -> str | None:
    """InsurUp's `detail` is written for customers (its docs say so); pass a short one on."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if isinstance(detail, str) and detail.strip():
        return detail.strip()[:_MAX_DETAIL]
    return None


def _retry_after(response: httpx.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return min(int(value), 3600) if value.isdigit() else None


def error_for_status(response: httpx.Response) -> GatewayError:
    """The gateway error for a non-2xx InsurUp answer (api.md, Upstream mapping)."""
    status = response.status_code
    detail = _problem_detail(response)
    if status == 401:
        return InsurUpUnauthorized()
    if status in (400, 422):
        return UpstreamRejected(detail, status=422)
    if status in (403, 409):
        return UpstreamRejected(detail, status=status)
    if status == 404:
        return NotFound(detail)
    if status == 429:
        return UpstreamError(
            "The insurance platform is busy; try again shortly",
            status=503,
            retry_after=_retry_after(response) or 5,
        )
    return UpstreamError(status=502)


def error_for_transport(exc: httpx.TransportError) -> GatewayError:
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
        return UpstreamTimeout()
    return UpstreamUnavailable()


def error_for_graphql(errors: list[Any]) -> GatewayError:
    codes = {str(e.get("extensions", {}).get("code", "")) for e in errors if isinstance(e, dict)}
    if {"UNAUTHORIZED", "AUTH_NOT_AUTHENTICATED"} & codes:
        return InsurUpUnauthorized()
    if "FORBIDDEN" in codes:
        return UpstreamRejected(status=403)
    if {"BAD_REQUEST", "VALIDATION_ERROR"} & codes:
        return UpstreamRejected()
    if _QUERY_CODES & codes or any(code.startswith("HC") for code in codes):
        return QueryRejected()
    return UpstreamError()
