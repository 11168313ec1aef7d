"""Every InsurUp answer and failure maps to one gateway error: a table, row by row."""

import httpx
import pytest

from app.errors import (
    GatewayError,
    NotFound,
    SessionExpired,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.insurup.errors import (
    InsurUpUnauthorized,
    error_for_graphql,
    error_for_status,
    error_for_transport,
)

REQUEST = httpx.Request("GET", "https://insurup.test/api/proposals/1")
PROBLEM = {"type": "x", "title": "x", "status": 0, "detail": "Teklif bulunamadı"}


def answer(
    status: int, *, body: object = PROBLEM, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=REQUEST)


@pytest.mark.parametrize(
    ("status", "kind", "gateway_status", "code"),
    [
        (400, UpstreamRejected, 422, "upstream_rejected"),
        (401, InsurUpUnauthorized, 401, "session_expired"),
        (403, UpstreamRejected, 403, "upstream_rejected"),
        (404, NotFound, 404, "not_found"),
        (409, UpstreamRejected, 409, "upstream_rejected"),
        (422, UpstreamRejected, 422, "upstream_rejected"),
        (429, UpstreamError, 503, "upstream_error"),
        (500, UpstreamError, 502, "upstream_error"),
        (502, UpstreamError, 502, "upstream_error"),
        (503, UpstreamError, 502, "upstream_error"),
        (504, UpstreamError, 502, "upstream_error"),
    ],
)
def test_each_status_maps_to_one_gateway_error(
    status: int, kind: type[GatewayError], gateway_status: int, code: str
) -> None:
    error = error_for_status(answer(status))
    assert type(error) is kind
    assert (error.status, error.code) == (gateway_status, code)


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_customer_facing_detail_is_passed_on_for_refusals(status: int) -> None:
    assert error_for_status(answer(status)).detail == "Teklif bulunamadı"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_failures_never_pass_insurup_text_on(status: int) -> None:
    error = error_for_status(answer(status, body={"detail": "NullReferenceException at line 3"}))
    assert "NullReference" not in error.detail


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("<html>bad gateway</html>", None),
        ([1, 2], None),
        ({"detail": "   "}, None),
        ({"detail": "x" * 500}, "x" * 300),
    ],
)
def test_unusable_or_long_details_are_dropped_or_cut(body: object, detail: str | None) -> None:
    response = (
        httpx.Response(422, text=body, request=REQUEST)
        if isinstance(body, str)
        else answer(422, body=body)
    )
    error = error_for_status(response)
    assert error.detail == (detail or UpstreamRejected.title)


@pytest.mark.parametrize(
    ("header", "retry_after"), [("7", 7), ("100000", 3600), ("soon", 5), (None, 5)]
)
def test_busy_insurup_says_when_to_retry(header: str | None, retry_after: int) -> None:
    headers = {"Retry-After": header} if header is not None else None
    assert error_for_status(answer(429, headers=headers)).retry_after == retry_after


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ReadTimeout("slow", request=REQUEST), UpstreamTimeout),
        (httpx.WriteTimeout("slow", request=REQUEST), UpstreamTimeout),
        (httpx.PoolTimeout("busy", request=REQUEST), UpstreamTimeout),
        (httpx.ConnectTimeout("no route", request=REQUEST), UpstreamUnavailable),
        (httpx.ConnectError("refused", request=REQUEST), UpstreamUnavailable),
        (httpx.ReadError("reset", request=REQUEST), UpstreamUnavailable),
        (httpx.RemoteProtocolError("garbage", request=REQUEST), UpstreamUnavailable),
    ],
)
def test_transport_failures(failure: httpx.TransportError, kind: type[GatewayError]) -> None:
    assert type(error_for_transport(failure)) is kind


@pytest.mark.parametrize(
    ("codes", "kind", "status"),
    [
        (["UNAUTHORIZED"], InsurUpUnauthorized, 401),
        (["AUTH_NOT_AUTHENTICATED"], InsurUpUnauthorized, 401),
        (["FORBIDDEN"], UpstreamRejected, 403),
        (["BAD_REQUEST"], UpstreamRejected, 422),
        (["VALIDATION_ERROR"], UpstreamRejected, 422),
        (["SOMETHING_NEW"], UpstreamError, 502),
        ([None], UpstreamError, 502),
    ],
)
def test_graphql_error_codes(
    codes: list[str | None], kind: type[GatewayError], status: int
) -> None:
    errors: list[object] = [
        {"message": "m", "extensions": {"code": code}} if code else {"message": "m"}
        for code in codes
    ]
    error = error_for_graphql(errors)
    assert type(error) is kind
    assert error.status == status


def test_an_unauthorized_answer_is_a_session_expiry_if_it_escapes() -> None:
    assert isinstance(error_for_status(answer(401)), SessionExpired)
