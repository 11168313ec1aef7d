"""The retry rules of one InsurUp call, and the token renewed once after a 401: tables of
what InsurUp does and how many requests the gateway then sends."""

import httpx
import orjson
import pytest
import respx
from prometheus_client import REGISTRY

from app.config import Settings
from app.errors import GatewayError, SessionExpired
from app.insurup.calls import (
    InsurUpCalls,
    may_retry_failure,
    may_retry_status,
    no_cookies,
    parse,
)
from app.insurup.proposals import ProposalWire
from app.insurup.transport import RequestNotSentError
from app.lifespan import InsurUpTarget, _insurup_http

BASE = "https://insurup.test"
REQUEST = httpx.Request("GET", f"{BASE}/x")


@pytest.mark.parametrize(
    ("status", "read_only", "attempt", "retry"),
    [
        (502, True, 0, True),
        (503, True, 1, True),
        (503, True, 2, False),  # twice at most
        (500, True, 0, False),  # a 500 is a bug at InsurUp: asking again will not help
        (504, True, 0, False),  # InsurUp already took the whole timeout once
        (502, False, 0, False),  # a write may have run
        (404, True, 0, False),
    ],
)
def test_retry_by_status(status: int, read_only: bool, attempt: int, retry: bool) -> None:
    assert may_retry_status(status, read_only=read_only, attempt=attempt) is retry


@pytest.mark.parametrize(
    ("failure", "read_only", "attempt", "retry"),
    [
        (httpx.ConnectError("refused", request=REQUEST), False, 0, True),  # never left
        (RequestNotSentError("closing", request=REQUEST), False, 0, True),
        (httpx.PoolTimeout("busy", request=REQUEST), False, 0, True),
        (httpx.ConnectError("refused", request=REQUEST), False, 1, False),  # once only
        (httpx.ReadError("reset", request=REQUEST), False, 0, False),  # a write may have run
        (httpx.ReadError("reset", request=REQUEST), True, 0, True),
        (httpx.RemoteProtocolError("garbage", request=REQUEST), True, 1, True),
        (httpx.ReadError("reset", request=REQUEST), True, 2, False),
        (httpx.ReadTimeout("slow", request=REQUEST), True, 0, False),  # waited once already
    ],
)
def test_retry_by_failure(
    failure: httpx.TransportError, read_only: bool, attempt: int, retry: bool
) -> None:
    assert may_retry_failure(failure, read_only=read_only, attempt=attempt) is retry


@pytest.mark.parametrize(
    ("method", "answers", "sent", "outcome"),
    [
        ("GET", [503, 503, 200], 3, 200),
        ("GET", [503, 503, 503], 3, "upstream_error"),
        ("GET", [500, 200], 1, "upstream_error"),
        ("POST", [503, 200], 1, "upstream_error"),
        ("GET", [httpx.ReadError("reset"), 200], 2, 200),
        ("POST", [httpx.ReadError("reset"), 200], 1, "upstream_unavailable"),
        ("POST", [httpx.ConnectError("refused"), 200], 2, 200),
        (
            "POST",
            [httpx.ConnectError("refused"), httpx.ConnectError("refused")],
            2,
            "upstream_unavailable",
        ),
        ("GET", [httpx.ReadTimeout("slow"), 200], 1, "upstream_timeout"),
    ],
)
async def test_requests_sent_for_each_sequence_of_answers(
    method: str, answers: list[int | Exception], sent: int, outcome: int | str
) -> None:
    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    route = router.route(method=method, path="/x").mock(
        side_effect=[a if isinstance(a, Exception) else httpx.Response(a, json={}) for a in answers]
    )
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        calls = InsurUpCalls(http)
        try:
            await calls.json("op", method, "/x", json={} if method == "POST" else None)
            result: int | str = 200
        except GatewayError as exc:
            result = exc.code
    assert (route.call_count, result) == (sent, outcome)


class Renewing:
    """A credential whose token InsurUp refuses until it is renewed (`good` says which)."""

    def __init__(self, good: set[str]) -> None:
        self.current = "old"
        self.renewals = 0
        self.good = good

    async def token(self) -> str:
        return self.current

    async def renewed(self) -> str:
        self.renewals += 1
        self.current = f"new-{self.renewals}"
        return self.current


@pytest.mark.parametrize(
    ("good", "sent", "renewals", "succeeds"),
    [
        ({"old"}, 1, 0, True),
        ({"new-1"}, 2, 1, True),  # one 401, one renewal, one retry
        (set(), 2, 1, False),  # still refused: the session is over, no second renewal
    ],
)
async def test_a_401_renews_the_token_once_and_retries_once(
    good: set[str], sent: int, renewals: int, succeeds: bool
) -> None:
    credential = Renewing(good)

    def answer(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return httpx.Response(200, json={"ok": True}) if token in good else httpx.Response(401)

    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    route = router.post("/x").mock(side_effect=answer)
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        calls = InsurUpCalls(http)
        if succeeds:
            assert await calls.json("op", "POST", "/x", auth=credential, json={}) == {"ok": True}
        else:
            with pytest.raises(SessionExpired):
                await calls.json("op", "POST", "/x", auth=credential, json={})
    assert (route.call_count, credential.renewals) == (sent, renewals)


@pytest.mark.parametrize("status", [307, 308])
async def test_a_same_origin_redirect_is_followed_once_with_method_body_and_token(
    status: int,
) -> None:
    """InsurUp's docs say `/api/*` is "routed to root"; if that is an HTTP redirect, the call
    still works: the same POST, body and token at the new address."""
    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    moved = router.post("/api/proposals").mock(
        return_value=httpx.Response(status, headers={"Location": "/proposals?x=1"})
    )
    landed = router.post("/proposals").mock(return_value=httpx.Response(200, json={"id": "p1"}))
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        answer = await InsurUpCalls(http).json(
            "op", "POST", "/api/proposals", auth=Renewing({"old"}), json={"a": 1}
        )
    assert answer == {"id": "p1"}
    assert moved.call_count == landed.call_count == 1
    request = landed.calls.last.request
    assert request.method == "POST"
    assert request.content == b'{"a":1}'
    assert request.headers["authorization"] == "Bearer old"
    assert request.url.params["x"] == "1"


@pytest.mark.parametrize(
    "location", ["https://elsewhere.example/proposals", "http://insurup.test/proposals"]
)
async def test_a_redirect_to_another_origin_is_never_followed(location: str) -> None:
    router = respx.MockRouter(assert_all_mocked=True)
    router.post(f"{BASE}/api/proposals").mock(
        return_value=httpx.Response(308, headers={"Location": location})
    )
    elsewhere = router.post(location).mock(return_value=httpx.Response(200, json={}))
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        with pytest.raises(GatewayError) as refused:
            await InsurUpCalls(http).json(
                "op", "POST", "/api/proposals", auth=Renewing({"old"}), json={}
            )
    assert refused.value.code == "upstream_error"
    assert elsewhere.call_count == 0  # the token never left for another host


async def test_a_redirect_loop_is_not_followed_twice() -> None:
    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    router.get("/api/x").mock(return_value=httpx.Response(308, headers={"Location": "/x"}))
    again = router.get("/x").mock(return_value=httpx.Response(308, headers={"Location": "/y"}))
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        with pytest.raises(GatewayError):
            await InsurUpCalls(http).json("op", "GET", "/api/x")
    assert again.call_count == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "params"),
    [
        ("GET", "/api/proposals/p%2F1", None, None),
        ("POST", "/api/x", {"a": "ş"}, None),
        ("GET", "/api/vehicles?kind=1", None, {"year": "2024", "name": "ş v"}),
        ("DELETE", "/api/x", None, None),
    ],
)
async def test_a_call_sends_what_the_client_itself_would_send(
    method: str, path: str, body: object, params: dict[str, str] | None
) -> None:
    """JSON calls go to the client's transport directly (`InsurUpCalls._exchange`): the
    request must be the very one `AsyncClient.request` builds (URL, headers in order, body,
    the timeouts the transport enforces)."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    async with httpx.AsyncClient(
        base_url=f"{BASE}/root",
        transport=httpx.MockTransport(answer),
        headers={"User-Agent": "gateway", "Accept": "application/json"},
        timeout=httpx.Timeout(3, connect=1),
    ) as http:
        await InsurUpCalls(http).json(
            "op", method, path, auth=Renewing({"old"}), json=body, params=params
        )
        headers = {"X-Request-ID": "-", "Accept-Language": "tr-TR", "Authorization": "Bearer old"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        content = None if body is None else orjson.dumps(body)
        await http.request(method, path, content=content, headers=headers, params=params)
    direct, general = seen
    assert (direct.method, direct.url) == (general.method, general.url)
    assert direct.headers.raw == general.headers.raw
    assert direct.content == general.content
    assert direct.extensions == general.extensions


@pytest.mark.parametrize("jar", ["the gateway's", "a plain one"])
async def test_a_cookie_insurup_sets_for_one_customer_never_rides_on_another_s_call(
    jar: str,
) -> None:
    """The gateway's client keeps no cookie (`no_cookies`, as the app builds it); a client
    with a plain jar shows the test would see one that was kept."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/set":
            return httpx.Response(200, json={}, headers={"Set-Cookie": "lb=a1; Path=/"})
        return httpx.Response(200, json={"cookie": request.headers.get("cookie")})

    cookies = no_cookies() if jar == "the gateway's" else None
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(answer), cookies=cookies
    ) as http:
        calls = InsurUpCalls(http)
        await calls.json("op", "GET", "/set", auth=Renewing({"customer-a"}))
        echoed = await calls.json("op", "GET", "/echo", auth=Renewing({"customer-b"}))
        # The general path (documents, other client set-ups) shares the jar.
        general = (await http.get("/echo")).json()
    kept = "lb=a1" if jar == "a plain one" else None
    assert echoed == {"cookie": kept}
    assert general == {"cookie": kept}


async def test_the_gateway_s_insurup_client_keeps_no_cookie(settings: Settings) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}, headers={"Set-Cookie": "lb=a1; Path=/"})

    target = InsurUpTarget(transport=httpx.MockTransport(answer), base_url=BASE)
    async with _insurup_http(settings, target) as http:
        await InsurUpCalls(http).json("op", "GET", "/set")
        await http.get("/set")
        assert not http.cookies


async def test_a_transport_failure_names_the_request() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")  # raised without a request, as a transport may

    async with httpx.AsyncClient(base_url=BASE, transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(GatewayError) as failed:
            await InsurUpCalls(http).json("op", "GET", "/x")
    cause = failed.value.__cause__
    assert isinstance(cause, httpx.ReadTimeout)
    assert cause.request.url == f"{BASE}/x"


_PRODUCT = {"id": "p1", "state": "ACTIVE", "premiums": [{"installmentNumber": 1}]}


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"proposalId": "q1", "products": [_PRODUCT], "extra": [1, 2]}),
        httpx.Response(200, json={"proposalId": "q1", "state": "ACTIVE"}),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, content=b'{"proposalId": "q1", "products": ['),  # cut short
        httpx.Response(200, content=b'{"proposalId": "q1", "policyStartDate": NaN}'),
        httpx.Response(
            200,
            content=b'{"proposalId": "q1", "products": [{"id": "p", "premiums": '
            b'[{"installmentNumber": 1, "grossPremium": Infinity}]}]}',
        ),
        httpx.Response(
            200,
            content=b'{"proposalId": "q1", "products": [{"id": "p", "premiums": '
            b'[{"installmentNumber": 1, "grossPremium": 1e400}]}]}',
        ),
        httpx.Response(200, content=b'{"proposalId": "q1", "proposalId": "q2"}'),
        httpx.Response(200, content=b'{"proposalId": "\xff"}'),  # not UTF-8
        httpx.Response(200, content=b""),
        httpx.Response(204),
        httpx.Response(200, json=None),
        httpx.Response(200, json=[{"proposalId": "q1"}]),
        httpx.Response(200, json={"products": []}),  # no id
        httpx.Response(200, json={"proposalId": "q1", "products": [{"state": "ACTIVE"}]}),
    ],
)
async def test_a_model_read_from_bytes_is_what_parsing_the_decoded_json_gives(
    answer: httpx.Response,
) -> None:
    """`model` reads a proposal straight from the answer's bytes; `json` then `parse` read it
    through orjson's objects: every answer gives the same model or the same error."""
    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    router.get("/x").mock(return_value=answer)

    async def outcome(read: str) -> object:
        async with httpx.AsyncClient(
            base_url=BASE, transport=httpx.MockTransport(router.async_handler)
        ) as http:
            calls = InsurUpCalls(http)
            before = _bad_bodies(read)
            try:
                if read == "bytes":
                    found: object = await calls.model(ProposalWire, read, "/x")
                else:
                    found = parse(ProposalWire, await calls.json(read, "GET", "/x"))
            except GatewayError as exc:
                found = (type(exc), exc.code, str(exc))
            return found, _bad_bodies(read) - before

    assert await outcome("bytes") == await outcome("objects")


def _bad_bodies(operation: str) -> float:
    value = REGISTRY.get_sample_value(
        "bff_insurup_calls_total", {"operation": operation, "outcome": "bad_body"}
    )
    return value or 0.0


async def test_a_number_json_does_not_allow_in_a_field_the_model_does_not_keep_is_ignored() -> None:
    """The one difference from `json` then `parse` (which refuse the whole answer)."""
    router = respx.MockRouter(base_url=BASE, assert_all_mocked=True)
    router.get("/x").mock(
        return_value=httpx.Response(200, content=b'{"proposalId": "q1", "rate": NaN}')
    )
    async with httpx.AsyncClient(
        base_url=BASE, transport=httpx.MockTransport(router.async_handler)
    ) as http:
        found = await InsurUpCalls(http).model(ProposalWire, "op", "/x")
    assert found.proposal_id == "q1"
