"""What InsurUp offers the gateway, typed: the only code that names InsurUp's paths and
parses its answers (with the wire models beside it). How a call is made is `calls.py`."""

from typing import Any

import httpx
import orjson

from app.errors import UpstreamError
from app.insurup.calls import (
    Download,
    InsurUpCalls,
    id_of,
    is_pdf,
    parse,
    parse_list,
    seg,
)
from app.insurup.models import CaseItem, Customer, LoginRequest, MfaChallenge, TokenPair
from app.insurup.policies import InsuranceCompanyWire, PolicyWire
from app.insurup.proposals import ProposalWire
from app.insurup.vehicles import LookupWire, Parameter, VehicleWire

__all__ = ["Download", "InsurUpClient"]

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


class InsurUpClient:
    """Typed calls to InsurUp; every failure leaves as a `GatewayError`."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        agent_id: str,
        agent_branch_id: str | None,
    ) -> None:
        self._calls = InsurUpCalls(http)
        self.agent_id = agent_id
        self.agent_branch_id = agent_branch_id

    async def login_or_register(self, request: LoginRequest) -> TokenPair | MfaChallenge:
        body = await self._calls.json(
            "login", "POST", "/api/auth/customer/login-or-register", json=request.to_wire()
        )
        # Direct tokens win; otherwise an MFA token; anything else is not InsurUp's contract.
        if isinstance(body, dict) and body.get("accessToken"):
            return parse(TokenPair, body)  # type: ignore[no-any-return]
        return parse(MfaChallenge, body)  # type: ignore[no-any-return]

    async def verify_mfa(self, *, mfa_token: str, code: str) -> TokenPair:
        body = await self._calls.json(
            "verify_mfa",
            "POST",
            "/api/auth/customer/verify-mfa",
            json={"token": mfa_token, "code": code},
        )
        return parse(TokenPair, body)  # type: ignore[no-any-return]

    async def refresh(self, *, refresh_token: str) -> TokenPair:
        # Body only: the SDK and InsurUp's own site send no Authorization header here.
        body = await self._calls.json(
            "refresh", "POST", "/api/auth/customer/refresh", json={"refreshToken": refresh_token}
        )
        return parse(TokenPair, body)  # type: ignore[no-any-return]

    async def customer_me(self, *, token: str) -> Customer:
        body = await self._calls.json("customer_me", "GET", "/api/customers/me", token=token)
        return parse(Customer, body)  # type: ignore[no-any-return]

    async def kasko_sale_cases(self, *, token: str, customer_id: str) -> list[CaseItem]:
        """The customer's kasko sale-opportunity cases, newest first (the caller decides)."""
        query = _CASES_QUERY % orjson.dumps(customer_id).decode()
        data = await self._calls.graphql("cases_query", query, token=token)
        cases = data.get("cases") if isinstance(data, dict) else None
        items = cases.get("items") if isinstance(cases, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return [parse(CaseItem, item) for item in items if isinstance(item, dict)]

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
        answer = await self._calls.json(
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
        body = await self._calls.json(
            "vehicles_list", "GET", "/api/customers/me/vehicles", token=token
        )
        return parse_list(VehicleWire, body)

    async def lookup_vehicle(
        self, *, token: str, customer_id: str, plate: dict[str, Any], serial: dict[str, str] | None
    ) -> LookupWire:
        request: dict[str, Any] = {"customerId": customer_id, "plate": plate}
        if serial is not None:
            request["documentSerial"] = serial
        body = await self._calls.json(
            "vehicle_lookup",
            "POST",
            f"/api/customers/{seg(customer_id)}/vehicles/external-lookup",
            token=token,
            json=request,
            read_only=True,  # a lookup changes nothing, so it may be asked again
        )
        return parse(LookupWire, body)  # type: ignore[no-any-return]

    async def create_vehicle(self, *, token: str, customer_id: str, body: dict[str, Any]) -> str:
        answer = await self._calls.json(
            "vehicle_create",
            "POST",
            f"/api/customers/{seg(customer_id)}/vehicles",
            token=token,
            json=body,
        )
        return id_of(answer, "id")

    async def brands(self, *, token: str) -> list[Parameter]:
        body = await self._calls.json(
            "brands", "GET", "/api/vehicle-parameters/brands", token=token
        )
        return parse_list(Parameter, body)

    async def models(self, *, token: str, brand_reference: str, year: int) -> list[Parameter]:
        body = await self._calls.json(
            "models",
            "GET",
            "/api/vehicle-parameters/models",
            token=token,
            params={"brandReference": brand_reference, "year": str(year)},
        )
        return parse_list(Parameter, body)

    async def coverage_choices(
        self, *, token: str, utilization_ordinal: int | None
    ) -> list[dict[str, Any]]:
        params = (
            None
            if utilization_ordinal is None
            else {"vehicleUtilizationStyle": str(utilization_ordinal)}
        )
        body = await self._calls.json(
            "coverage_choices", "GET", "/api/coverage-choices:kasko", token=token, params=params
        )
        if not isinstance(body, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return [item for item in body if isinstance(item, dict)]

    # -- proposals -----------------------------------------------------------------------------

    async def create_proposal(self, *, token: str, body: dict[str, Any]) -> str:
        answer = await self._calls.json(
            "proposal_create", "POST", "/api/proposals", token=token, json=body
        )
        return id_of(answer, "proposalId", "id")

    async def proposal(self, *, token: str, proposal_id: str) -> ProposalWire:
        body = await self._calls.json(
            "proposal_get", "GET", f"/api/proposals/{seg(proposal_id)}", token=token
        )
        return parse(ProposalWire, body)  # type: ignore[no-any-return]

    async def product_coverage(
        self, *, token: str, proposal_id: str, product_id: str
    ) -> dict[str, Any]:
        body = await self._calls.json(
            "product_coverage",
            "GET",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/coverage",
            token=token,
        )
        coverage = body.get("coverage") if isinstance(body, dict) else None
        return coverage if isinstance(coverage, dict) else {}

    async def premium_detail(
        self, *, token: str, proposal_id: str, product_id: str, installment: int
    ) -> dict[str, Any]:
        body = await self._calls.json(
            "premium_detail",
            "GET",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}"
            f"/premium-detail/{installment}",
            token=token,
        )
        return body if isinstance(body, dict) else {}

    async def retry_product(self, *, token: str, proposal_id: str, product_id: str) -> None:
        await self._calls.json(
            "product_retry",
            "POST",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/retry",
            token=token,
            json={"proposalId": proposal_id, "proposalProductId": product_id},
        )

    # -- purchase and policies -----------------------------------------------------------------

    async def purchase_async(
        self, *, token: str, proposal_id: str, product_id: str, body: dict[str, Any]
    ) -> str:
        """Start a payment; the answer is where to send the customer's browser."""
        answer = await self._calls.json(
            "purchase",
            "POST",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/purchase/async",
            token=token,
            json=body,
        )
        return id_of(answer, "redirectUrl")

    async def policy(self, *, token: str, policy_id: str) -> PolicyWire:
        body = await self._calls.json(
            "policy_get", "GET", f"/api/policies/{seg(policy_id)}", token=token
        )
        return parse(PolicyWire, body)  # type: ignore[no-any-return]

    async def insurance_companies(self, *, token: str) -> list[InsuranceCompanyWire]:
        body = await self._calls.json("insurers", "GET", "/api/insurance-companies", token=token)
        return parse_list(InsuranceCompanyWire, body)

    async def send_policy_document(
        self, *, token: str, policy_id: str, customer_id: str, email: str
    ) -> None:
        await self._calls.json(
            "policy_document_send",
            "POST",
            f"/api/policies/{seg(policy_id)}/document/send",
            token=token,
            json={
                "policyId": policy_id,
                "customerId": customer_id,
                "communication": {"type": "email", "email": email},
            },
        )

    async def open_policy_document(self, *, token: str, policy_id: str) -> "Download":
        """The policy PDF as a stream, whether InsurUp answers with the bytes or a URL."""
        first = await self._calls.open(
            "policy_document", f"/api/policies/{seg(policy_id)}/document", token
        )
        if is_pdf(first):
            return Download(first)
        try:
            await first.aread()
            answer = orjson.loads(first.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("The insurance platform sent an unreadable document") from exc
        finally:
            await first.aclose()
        url = answer.get("url") if isinstance(answer, dict) else None
        if not isinstance(url, str) or not self._calls.may_follow(url):
            raise UpstreamError("The insurance platform sent no usable document address")
        # The document host is not InsurUp: it gets no token.
        second = await self._calls.open("policy_document_file", url, None)
        return Download(second)

    async def reachable(self) -> bool:
        """Whether InsurUp answers HTTP at all (any status will do); for readiness reports."""
        return await self._calls.reachable()
