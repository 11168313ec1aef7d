"""The one place that speaks InsurUp's REST and GraphQL dialect."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from pydantic import ValidationError

from app.context import request_id_var
from app.errors import UpstreamError
from app.insurup.errors import error_for_graphql, error_for_status, error_for_transport
from app.insurup.models import CaseItem, Customer, LoginRequest, MfaChallenge, TokenPair
from app.insurup.policies import InsuranceCompanyWire, PolicyWire
from app.insurup.proposals import ProposalWire
from app.insurup.transport import request_never_sent
from app.insurup.vehicles import LookupWire, Parameter, VehicleWire
from app.ops.metrics import INSURUP_CALLS, INSURUP_SECONDS

log = logging.getLogger("app.insurup")

# Reads are retried on connection failures and on 502/503, twice at most with a short pause:
# long back-offs would only move the wait to the customer.
_READ_RETRY_STATUSES = frozenset({502, 503})
_READ_RETRY_PAUSES = (0.05, 0.2)

_CASES_QUERY = """
query {
  cases(
    skip: 0
    take: 100
    where: {
      customerId: { eq: %s }
      type: { eq: SALE_OPPORTUNITY }
      productBranch: { eq: KASKO }
    }
    order: { createdAt: DESC }
  ) {
    totalCount
    items { id productBranch type status }
  }
}
"""


def _parse(model: type[Any], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise UpstreamError("The insurance platform sent an unexpected answer") from exc


def _parse_list(model: type[Any], data: Any) -> list[Any]:
    if not isinstance(data, list):
        raise UpstreamError("The insurance platform sent an unexpected answer")
    return [_parse(model, item) for item in data]


def _id_of(answer: Any, *names: str) -> str:
    """Created-resource answers: `{"id": ...}`, `{"proposalId": ...}` or a bare string."""
    if isinstance(answer, str) and answer:
        return answer
    if isinstance(answer, dict):
        for name in names:
            value = answer.get(name)
            if isinstance(value, str) and value:
                return value
    raise UpstreamError("The insurance platform sent an unexpected answer")


class InsurUpClient:
    """Typed calls to InsurUp; every failure leaves as a `GatewayError`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        agent_id: str,
        agent_branch_id: str | None,
    ) -> None:
        self._http = http
        self.agent_id = agent_id
        self.agent_branch_id = agent_branch_id

    async def login_or_register(self, request: LoginRequest) -> TokenPair | MfaChallenge:
        body = await self._json(
            "login", "POST", "/api/auth/customer/login-or-register", json=request.to_wire()
        )
        # Direct tokens win; otherwise an MFA token; anything else is not InsurUp's contract.
        if isinstance(body, dict) and body.get("accessToken"):
            return _parse(TokenPair, body)  # type: ignore[no-any-return]
        return _parse(MfaChallenge, body)  # type: ignore[no-any-return]

    async def verify_mfa(self, *, mfa_token: str, code: str) -> TokenPair:
        body = await self._json(
            "verify_mfa",
            "POST",
            "/api/auth/customer/verify-mfa",
            json={"token": mfa_token, "code": code},
        )
        return _parse(TokenPair, body)  # type: ignore[no-any-return]

    async def refresh(self, *, refresh_token: str) -> TokenPair:
        # Body only: the SDK and InsurUp's own site send no Authorization header here.
        body = await self._json(
            "refresh", "POST", "/api/auth/customer/refresh", json={"refreshToken": refresh_token}
        )
        return _parse(TokenPair, body)  # type: ignore[no-any-return]

    async def customer_me(self, *, token: str) -> Customer:
        body = await self._json("customer_me", "GET", "/api/customers/me", token=token)
        return _parse(Customer, body)  # type: ignore[no-any-return]

    async def kasko_sale_cases(self, *, token: str, customer_id: str) -> list[CaseItem]:
        """The customer's kasko sale-opportunity cases, newest first (the caller decides)."""
        query = _CASES_QUERY % orjson.dumps(customer_id).decode()
        data = await self._graphql("cases_query", query, token=token)
        cases = data.get("cases") if isinstance(data, dict) else None
        items = cases.get("items") if isinstance(cases, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return [_parse(CaseItem, item) for item in items if isinstance(item, dict)]

    async def create_sale_opportunity(
        self, *, token: str, customer_id: str, channel: str
    ) -> str | None:
        body: dict[str, object] = {
            "customerId": customer_id,
            "assetType": None,
            "assetId": None,
            "productBranch": "KASKO",
            "channel": channel,
        }
        if self.agent_branch_id:
            body["agentBranchId"] = self.agent_branch_id
        answer = await self._json(
            "case_create", "POST", "/api/cases:new-sale-opportunity", token=token, json=body
        )
        # The SDK contract is a bare JSON string; older docs show {"id": ...}. Accept both.
        if isinstance(answer, str) and answer:
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("id"), str):
            return str(answer["id"])
        return None

    # -- vehicles ------------------------------------------------------------------------------

    async def vehicles(self, *, token: str) -> list[VehicleWire]:
        body = await self._json("vehicles_list", "GET", "/api/customers/me/vehicles", token=token)
        return _parse_list(VehicleWire, body)

    async def lookup_vehicle(
        self, *, token: str, customer_id: str, plate: dict[str, Any], serial: dict[str, str] | None
    ) -> LookupWire:
        request: dict[str, Any] = {"customerId": customer_id, "plate": plate}
        if serial is not None:
            request["documentSerial"] = serial
        body = await self._json(
            "vehicle_lookup",
            "POST",
            f"/api/customers/{_seg(customer_id)}/vehicles/external-lookup",
            token=token,
            json=request,
            read_only=True,  # a lookup changes nothing, so it may be asked again
        )
        return _parse(LookupWire, body)  # type: ignore[no-any-return]

    async def create_vehicle(self, *, token: str, customer_id: str, body: dict[str, Any]) -> str:
        answer = await self._json(
            "vehicle_create",
            "POST",
            f"/api/customers/{_seg(customer_id)}/vehicles",
            token=token,
            json=body,
        )
        return _id_of(answer, "id")

    async def brands(self, *, token: str) -> list[Parameter]:
        body = await self._json("brands", "GET", "/api/vehicle-parameters/brands", token=token)
        return _parse_list(Parameter, body)

    async def models(self, *, token: str, brand_reference: str, year: int) -> list[Parameter]:
        body = await self._json(
            "models",
            "GET",
            "/api/vehicle-parameters/models",
            token=token,
            params={"brandReference": brand_reference, "year": str(year)},
        )
        return _parse_list(Parameter, body)

    async def coverage_choices(
        self, *, token: str, utilization_ordinal: int | None
    ) -> list[dict[str, Any]]:
        params = (
            None
            if utilization_ordinal is None
            else {"vehicleUtilizationStyle": str(utilization_ordinal)}
        )
        body = await self._json(
            "coverage_choices", "GET", "/api/coverage-choices:kasko", token=token, params=params
        )
        if not isinstance(body, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return [item for item in body if isinstance(item, dict)]

    # -- proposals -----------------------------------------------------------------------------

    async def create_proposal(self, *, token: str, body: dict[str, Any]) -> str:
        answer = await self._json(
            "proposal_create", "POST", "/api/proposals", token=token, json=body
        )
        return _id_of(answer, "proposalId", "id")

    async def proposal(self, *, token: str, proposal_id: str) -> ProposalWire:
        body = await self._json(
            "proposal_get", "GET", f"/api/proposals/{_seg(proposal_id)}", token=token
        )
        return _parse(ProposalWire, body)  # type: ignore[no-any-return]

    async def product_coverage(
        self, *, token: str, proposal_id: str, product_id: str
    ) -> dict[str, Any]:
        body = await self._json(
            "product_coverage",
            "GET",
            f"/api/proposals/{_seg(proposal_id)}/products/{_seg(product_id)}/coverage",
            token=token,
        )
        coverage = body.get("coverage") if isinstance(body, dict) else None
        return coverage if isinstance(coverage, dict) else {}

    async def premium_detail(
        self, *, token: str, proposal_id: str, product_id: str, installment: int
    ) -> dict[str, Any]:
        body = await self._json(
            "premium_detail",
            "GET",
            f"/api/proposals/{_seg(proposal_id)}/products/{_seg(product_id)}"
            f"/premium-detail/{installment}",
            token=token,
        )
        return body if isinstance(body, dict) else {}

    async def retry_product(self, *, token: str, proposal_id: str, product_id: str) -> None:
        await self._json(
            "product_retry",
            "POST",
            f"/api/proposals/{_seg(proposal_id)}/products/{_seg(product_id)}/retry",
            token=token,
            json={"proposalId": proposal_id, "proposalProductId": product_id},
        )

    # -- purchase and policies -----------------------------------------------------------------

    async def purchase_async(
        self, *, token: str, proposal_id: str, product_id: str, body: dict[str, Any]
    ) -> str:
        """Start a payment; the answer is where to send the customer's browser."""
        answer = await self._json(
            "purchase",
            "POST",
            f"/api/proposals/{_seg(proposal_id)}/products/{_seg(product_id)}/purchase/async",
            token=token,
            json=body,
        )
        return _id_of(answer, "redirectUrl")

    async def policy(self, *, token: str, policy_id: str) -> PolicyWire:
        body = await self._json(
            "policy_get", "GET", f"/api/policies/{_seg(policy_id)}", token=token
        )
        return _parse(PolicyWire, body)  # type: ignore[no-any-return]

    async def insurance_companies(self, *, token: str) -> list[InsuranceCompanyWire]:
        body = await self._json("insurers", "GET", "/api/insurance-companies", token=token)
        return _parse_list(InsuranceCompanyWire, body)

    async def send_policy_document(
        self, *, token: str, policy_id: str, customer_id: str, email: str
    ) -> None:
        await self._json(
            "policy_document_send",
            "POST",
            f"/api/policies/{_seg(policy_id)}/document/send",
            token=token,
            json={
                "policyId": policy_id,
                "customerId": customer_id,
                "communication": {"type": "email", "email": email},
            },
        )

    async def open_policy_document(self, *, token: str, policy_id: str) -> "Download":
        """The policy PDF as a stream, whether InsurUp answers with the bytes or a URL."""
        first = await self._open(
            "policy_document", f"/api/policies/{_seg(policy_id)}/document", token
        )
        if _is_pdf(first):
            return Download(first)
        try:
            await first.aread()
            answer = orjson.loads(first.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("The insurance platform sent an unreadable document") from exc
        finally:
            await first.aclose()
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or not self._may_follow(url):
            raise UpstreamError("The insurance platform sent no usable document address")
        # The document host is not InsurUp: it gets no token.
        second = await self._open("policy_document_file", url, None)
        return Download(second)

    def _may_follow(self, url: str) -> bool:
        parts = httpx.URL(url)
        base = self._http.base_url
        same_origin = (parts.scheme, parts.host, parts.port) == (base.scheme, base.host, base.port)
        return parts.scheme == "https" or same_origin

    async def _open(self, operation: str, url: str, token: str | None) -> httpx.Response:
        headers = {
            "X-Request-ID": request_id_var.get(),
            "Accept": "application/pdf, application/json",
        }
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = self._http.build_request("GET", url, headers=headers)
        started = time.perf_counter()
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            INSURUP_CALLS.labels(operation, type(exc).__name__).inc()
            raise error_for_transport(exc) from exc
        INSURUP_SECONDS.labels(operation).observe(time.perf_counter() - started)
        INSURUP_CALLS.labels(operation, str(response.status_code)).inc()
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
            raise error_for_status(response)
        return response

    async def reachable(self) -> bool:
        """Whether InsurUp answers HTTP at all (any status will do); for readiness reports."""
        try:
            await self._http.get("/", timeout=2.0)
        except httpx.TransportError:
            return False
        return True

    async def _graphql(self, operation: str, query: str, *, token: str) -> Any:
        body = await self._json(
            operation, "POST", "/graphql", token=token, json={"query": query}, read_only=True
        )
        if not isinstance(body, dict):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            raise error_for_graphql(errors)
        return body.get("data")

    async def _json(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json: object | None = None,
        read_only: bool | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        response = await self._send(
            operation,
            method,
            path,
            token=token,
            json=json,
            read_only=method == "GET" if read_only is None else read_only,
            params=params,
        )
        if response.status_code == 204 or not response.content:
            return None
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            INSURUP_CALLS.labels(operation, "bad_body").inc()
            log.warning("insurup answer is not JSON", extra={"operation": operation})
            raise UpstreamError("The insurance platform sent an unreadable answer") from exc

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
        while True:
            started = time.perf_counter()
            try:
                response = await self._http.request(
                    method, path, content=content, headers=headers, params=params
                )
            except httpx.TransportError as exc:
                INSURUP_SECONDS.labels(operation).observe(time.perf_counter() - started)
                retry = _may_retry_failure(exc, read_only=read_only, attempt=attempt)
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
                retry = (
                    read_only
                    and status in _READ_RETRY_STATUSES
                    and attempt < len(_READ_RETRY_PAUSES)
                )
                INSURUP_CALLS.labels(operation, "retry" if retry else str(status)).inc()
                # Per call detail is for debugging; the access line and metrics cover the rest.
                log.debug(
                    "insurup call",
                    extra={"operation": operation, "status": status, "ms": round(elapsed * 1000)},
                )
                if status < 400:
                    return response
                if not retry:
                    raise error_for_status(response)
            await asyncio.sleep(_READ_RETRY_PAUSES[min(attempt, len(_READ_RETRY_PAUSES) - 1)])
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

    async def aclose(self) -> None:
        await self._response.aclose()


def _is_pdf(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/pdf", "application/octet-stream")


def _seg(value: str) -> str:
    """One path segment: ids come from customers, so nothing in them may change the path."""
    return quote(value, safe="")


def _may_retry_failure(exc: httpx.TransportError, *, read_only: bool, attempt: int) -> bool:
    # Any call may be sent again once when it provably never left (a stale pooled connection
    # or a refused connect); reads may also be repeated after a dropped connection.
    if request_never_sent(exc) and attempt == 0:
        return True
    if read_only and attempt < len(_READ_RETRY_PAUSES):
        return isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)
    return False
