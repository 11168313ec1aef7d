"""What InsurUp offers the gateway, typed: the code that names InsurUp's paths, builds its
bodies and parses its answers into the wire models beside it. How a call is made (tokens,
retries, errors) is `calls.py`; InsurUp's enum values become the gateway's words in `terms.py`.

A client is bound to a credential (`bound`): a customer's session, whose tokens are renewed
inside every call, or none for the sign-in calls themselves.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import httpx
import orjson

from app.errors import UpstreamError
from app.insurup import terms
from app.insurup.calls import (
    Credential,
    Download,
    FixedToken,
    InsurUpCalls,
    id_of,
    is_pdf,
    parse,
    parse_list,
    seg,
)
from app.insurup.errors import QueryRejected
from app.insurup.models import CaseItem, Customer, LoginRequest, MfaChallenge, TokenPair
from app.insurup.policies import InsuranceCompanyWire, PolicyWire
from app.insurup.proposals import (
    CoverageChoicesWire,
    CoverageLine,
    PremiumDetailWire,
    ProposalWire,
    coverage_lines,
    proposal_body,
)
from app.insurup.purchase import Card, PurchaseRedirect, purchase_body
from app.insurup.vehicles import (
    LookupWire,
    NewVehicle,
    Parameter,
    VehicleWire,
    plate_wire,
    serial_wire,
    utilization_ordinal,
)
from app.validation import DocumentSerial, Plate
from app.vocabulary import Channel, ConsentType, CustomerKind, PaymentMethod

__all__ = ["Agent", "Download", "InsurUpClient"]

log = logging.getLogger("app.insurup")

_CASES_QUERY = """
query {
  cases(
    skip: 0
    take: 100
    where: {
      customerId: { eq: %s }
      type: { eq: %s }
      productBranch: { eq: %s }
    }
    order: { createdAt: DESC }
  ) {
    totalCount
    items { %s }
  }
}
"""
# The fields InsurUp's guide selects; `id` is asked for too (to show the case id) as long as
# InsurUp's schema has it, which no primary source shows.
_CASE_FIELDS = "productBranch type status"


def cases_query(customer_id: str, *, with_id: bool) -> str:
    """The legacy GraphQL `cases` query for a customer's kasko sale opportunities."""
    customer = orjson.dumps(customer_id).decode()
    fields = f"id {_CASE_FIELDS}" if with_id else _CASE_FIELDS
    return _CASES_QUERY % (customer, terms.SALE_OPPORTUNITY, terms.KASKO, fields)


@dataclass(slots=True)
class CaseIdSupport:
    """Whether InsurUp's legacy `cases` items have `id`: learnt once per process."""

    supported: bool = True


@dataclass(frozen=True, slots=True)
class Agent:
    """The agency InsurUp knows: every sign-in, case and proposal is recorded under it."""

    agent_id: str
    branch_id: str | None = None


class InsurUpClient:
    """Typed calls to InsurUp; every failure leaves as a `GatewayError`."""

    def __init__(
        self,
        calls: InsurUpCalls,
        *,
        agent: Agent,
        auth: Credential | None = None,
        case_ids: CaseIdSupport | None = None,
    ) -> None:
        self._calls = calls
        self._agent = agent
        self._auth = auth
        self._case_ids = case_ids or CaseIdSupport()

    @classmethod
    def over(
        cls, http: httpx.AsyncClient, *, agent: Agent, document_hosts: Sequence[str] = ()
    ) -> "InsurUpClient":
        """`document_hosts`: where a policy document's address may point besides InsurUp."""
        return cls(InsurUpCalls(http, document_hosts=document_hosts), agent=agent)

    def bound(self, auth: Credential) -> "InsurUpClient":
        """The same client, calling with `auth`'s token."""
        return InsurUpClient(self._calls, agent=self._agent, auth=auth, case_ids=self._case_ids)

    # -- signing in (no credential yet) ------------------------------------------------------

    async def login_or_register(
        self,
        *,
        kind: CustomerKind,
        identity_number: str,
        phone_national: str,
        birth_date: date | None,
        consents: tuple[ConsentType, ...] = (),
    ) -> TokenPair | MfaChallenge:
        request = LoginRequest(
            kind=kind,
            identity_number=identity_number,
            phone_national=phone_national,
            birth_date=birth_date,
            consents=consents,
            agent_id=self._agent.agent_id,
            agent_branch_id=self._agent.branch_id,
        )
        body = await self._calls.json(
            "login", "POST", "/api/auth/customer/login-or-register", json=request.to_wire()
        )
        # Direct tokens win; otherwise an MFA token; anything else is not InsurUp's contract.
        if isinstance(body, dict) and body.get("accessToken"):
            return parse(TokenPair, body)
        return parse(MfaChallenge, body)

    async def verify_mfa(self, *, mfa_token: str, code: str) -> TokenPair:
        body = await self._calls.json(
            "verify_mfa",
            "POST",
            "/api/auth/customer/verify-mfa",
            json={"token": mfa_token, "code": code},
        )
        return parse(TokenPair, body)

    async def refresh(self, *, refresh_token: str, access_token: str) -> TokenPair:
        """A new pair. The (expired) access token goes along as `Authorization: Bearer`, as
        InsurUp's kasko guide shows: a server that does not need it ignores it, one that
        needs it would otherwise end every session when the first token lapses."""
        body = await self._calls.json(
            "refresh",
            "POST",
            "/api/auth/customer/refresh",
            auth=FixedToken(access_token),
            json={"refreshToken": refresh_token},
        )
        return parse(TokenPair, body)

    # -- the customer and the sale opportunity ---------------------------------------------

    async def customer_me(self) -> Customer:
        body = await self._calls.json("customer_me", "GET", "/api/customers/me", auth=self._auth)
        return parse(Customer, body)

    async def kasko_sale_cases(self, *, customer_id: str) -> list[CaseItem]:
        """The customer's kasko sale-opportunity cases, newest first (the caller decides)."""

        with_id = self._case_ids.supported
        try:
            data = await self._calls.graphql(
                "cases_query", cases_query(customer_id, with_id=with_id), auth=self._auth
            )
        except QueryRejected:
            if not with_id:
                raise
            self._case_ids.supported = False
            log.warning("InsurUp's cases query has no id field; asking without it")
            data = await self._calls.graphql(
                "cases_query", cases_query(customer_id, with_id=False), auth=self._auth
            )
        cases = data.get("cases") if isinstance(data, dict) else None
        items = cases.get("items") if isinstance(cases, dict) else None
        if not isinstance(items, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return [parse(CaseItem, item) for item in items if isinstance(item, dict)]

    async def create_sale_opportunity(self, *, customer_id: str, channel: Channel) -> str | None:
        body: dict[str, object] = {
            "customerId": customer_id,
            "assetType": None,
            "assetId": None,
            "productBranch": terms.KASKO,
            "channel": channel,
        }
        if self._agent.branch_id:
            body["agentBranchId"] = self._agent.branch_id
        answer = await self._calls.json(
            "case_create",
            "POST",
            "/api/cases:new-sale-opportunity",
            auth=self._auth,
            json=body,
        )
        # The SDK contract is a bare JSON string; older docs show {"id": ...}. Accept both.
        if isinstance(answer, str) and answer:
            return answer
        if isinstance(answer, dict) and isinstance(answer.get("id"), str):
            return str(answer["id"])
        return None

    # -- vehicles ------------------------------------------------------------------------------

    async def vehicles(self) -> list[VehicleWire]:
        body = await self._calls.json(
            "vehicles_list", "GET", "/api/customers/me/vehicles", auth=self._auth
        )
        return parse_list(VehicleWire, body)

    async def lookup_vehicle(
        self, *, customer_id: str, plate: Plate, serial: DocumentSerial
    ) -> LookupWire:
        request = {
            "customerId": customer_id,
            "plate": plate_wire(plate),
            "documentSerial": serial_wire(serial),
        }
        body = await self._calls.json(
            "vehicle_lookup",
            "POST",
            f"/api/customers/{seg(customer_id)}/vehicles/external-lookup",
            auth=self._auth,
            json=request,
            read_only=True,  # a lookup changes nothing, so it may be asked again
        )
        return parse(LookupWire, body)

    async def create_vehicle(self, *, customer_id: str, vehicle: NewVehicle) -> str:
        answer = await self._calls.json(
            "vehicle_create",
            "POST",
            f"/api/customers/{seg(customer_id)}/vehicles",
            auth=self._auth,
            json=vehicle.to_wire(customer_id),
        )
        return id_of(answer, "id")

    async def brands(self) -> list[Parameter]:
        body = await self._calls.json(
            "brands", "GET", "/api/vehicle-parameters/brands", auth=self._auth
        )
        return parse_list(Parameter, body)

    async def models(self, *, brand_reference: str, year: int) -> list[Parameter]:
        body = await self._calls.json(
            "models",
            "GET",
            "/api/vehicle-parameters/models",
            auth=self._auth,
            params={"brandReference": brand_reference, "year": str(year)},
        )
        return parse_list(Parameter, body)

    async def coverage_choices(self, *, utilization_style: str | None) -> list[CoverageChoicesWire]:
        # Query strings bind InsurUp enums by ordinal (a name gives 400); bodies take names.
        params = (
            None
            if utilization_style is None
            else {"vehicleUtilizationStyle": str(utilization_ordinal(utilization_style))}
        )
        body = await self._calls.json(
            "coverage_choices",
            "GET",
            "/api/coverage-choices:kasko",
            auth=self._auth,
            params=params,
        )
        if not isinstance(body, list):
            raise UpstreamError("The insurance platform sent an unexpected answer")
        return parse_list(CoverageChoicesWire, [item for item in body if isinstance(item, dict)])

    # -- proposals -----------------------------------------------------------------------------

    async def create_proposal(
        self,
        *,
        customer_id: str,
        vehicle_id: str,
        coverage_group_ids: list[str],
        channel: Channel,
        policy_start_date: date | None,
    ) -> str:
        body = proposal_body(
            customer_id=customer_id,
            vehicle_id=vehicle_id,
            coverage_group_ids=coverage_group_ids,
            channel=channel,
            agent_branch_id=self._agent.branch_id,
            policy_start_date=policy_start_date,
        )
        answer = await self._calls.json(
            "proposal_create", "POST", "/api/proposals", auth=self._auth, json=body
        )
        return id_of(answer, "proposalId", "id")

    async def proposal(self, *, proposal_id: str) -> ProposalWire:
        return await self._calls.model(
            ProposalWire, "proposal_get", f"/api/proposals/{seg(proposal_id)}", auth=self._auth
        )

    async def product_coverage(self, *, proposal_id: str, product_id: str) -> list[CoverageLine]:
        body = await self._calls.json(
            "product_coverage",
            "GET",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/coverage",
            auth=self._auth,
        )
        return coverage_lines(body.get("coverage") if isinstance(body, dict) else None)

    async def premium_detail(
        self, *, proposal_id: str, product_id: str, installment: int
    ) -> PremiumDetailWire:
        body = await self._calls.json(
            "premium_detail",
            "GET",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}"
            f"/premium-detail/{installment}",
            auth=self._auth,
        )
        return parse(PremiumDetailWire, body if isinstance(body, dict) else {})

    async def retry_product(self, *, proposal_id: str, product_id: str) -> None:
        await self._calls.json(
            "product_retry",
            "POST",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/retry",
            auth=self._auth,
            json={"proposalId": proposal_id, "proposalProductId": product_id},
        )

    # -- purchase and policies -----------------------------------------------------------------

    async def purchase_async(
        self,
        *,
        proposal_id: str,
        product_id: str,
        method: PaymentMethod,
        installment: int,
        callback_url: str,
        card: Card | None,
    ) -> PurchaseRedirect:
        """Start a payment; the answer is where to send the customer's browser."""
        body = purchase_body(
            method=method,
            proposal_id=proposal_id,
            product_id=product_id,
            installment=installment,
            callback_url=callback_url,
            card=card,
        )
        answer = await self._calls.json(
            "purchase",
            "POST",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/purchase/async",
            auth=self._auth,
            json=body,
        )
        if isinstance(answer, str):  # a bare URL, as some answers are for created things
            return PurchaseRedirect(url=id_of(answer))
        return parse(PurchaseRedirect, answer)

    async def policy(self, *, policy_id: str) -> PolicyWire:
        body = await self._calls.json(
            "policy_get", "GET", f"/api/policies/{seg(policy_id)}", auth=self._auth
        )
        return parse(PolicyWire, body)

    async def insurance_companies(self) -> list[InsuranceCompanyWire]:
        body = await self._calls.json(
            "insurers", "GET", "/api/insurance-companies", auth=self._auth
        )
        return parse_list(InsuranceCompanyWire, body)

    async def send_policy_document(self, *, policy_id: str, customer_id: str, email: str) -> None:
        await self._calls.json(
            "policy_document_send",
            "POST",
            f"/api/policies/{seg(policy_id)}/document/send",
            auth=self._auth,
            json={
                "policyId": policy_id,
                "customerId": customer_id,
                "communication": {"type": "email", "email": email},
            },
        )

    async def open_policy_document(self, *, policy_id: str) -> Download:
        """The policy PDF as a stream, whether InsurUp answers with the bytes or a URL."""
        return await self._open_document(
            "policy_document", f"/api/policies/{seg(policy_id)}/document"
        )

    async def open_information_form(self, *, proposal_id: str, product_id: str) -> Download:
        """The pre-contract information form (ön bilgilendirme formu) of a product, as PDF."""
        return await self._open_document(
            "information_form",
            f"/api/proposals/{seg(proposal_id)}/products/{seg(product_id)}/information-form",
        )

    async def _open_document(self, operation: str, path: str) -> Download:
        first = await self._calls.open(operation, path, auth=self._auth)
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
        return Download(await self._calls.open(f"{operation}_file", url, auth=None))

    async def reachable(self) -> bool:
        """Whether InsurUp answers HTTP at all (any status will do); for readiness reports."""
        return await self._calls.reachable()
