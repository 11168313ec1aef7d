"""Policies (reference 8): `GET policies/{id}`, `GET policies/{id}/document` and
`POST policies/{id}/document/send`."""

import re
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from .auth import PhoneNumberBody, authenticate, authenticate_any
from .config import Operation
from .customers import SANDBOX_USER
from .documents import policy_pdf
from .enums import PolicyState, ProductBranch
from .faults import inject_faults
from .lifecycle import settle, turkish_date
from .problems import ProblemError, ValidationIssue
from .records import Policy
from .routing import base_url, body_must_repeat_path, require_own, require_self
from .state import Customer, SandboxState, ServiceAccount, iso_datetime
from .validation import Guid, WireModel, parse_body, read_json_object

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class SendDocumentBody(WireModel):
    policy_id: str = Field(alias="policyId", strict=True)
    customer_id: Guid = Field(alias="customerId")
    communication: dict[str, Any]


class EmailCommunication(WireModel):
    type: Literal["email"]
    email: str = Field(strict=True, max_length=254)


class SmsCommunication(WireModel):
    type: Literal["sms"]
    phone_number: PhoneNumberBody = Field(alias="phoneNumber")


def policy_state(state: SandboxState, policy: Policy) -> PolicyState:
    today = turkish_date(state.now()).isoformat()
    return PolicyState.END_OF_LIFE if policy.end_date <= today else PolicyState.ACTIVE


def policy_json(state: SandboxState, policy: Policy) -> dict[str, object]:
    """`GetPolicyDetailResult` (C-POL)."""
    premium = policy.premium
    return {
        "id": policy.id,
        "insurerCustomerId": policy.customer_id,
        "insuredCustomerId": policy.insured_customer_id,
        "proposalId": policy.proposal_id,
        "proposalProductId": policy.product_id,
        "productId": policy.insurer.product_id,
        "insuranceCompanyId": policy.insurer.id,
        "installmentNumber": policy.installment_number,
        "productBranch": ProductBranch.KASKO.value,
        "netPremium": premium.net_premium,
        "grossPremium": premium.gross_premium,
        "commission": premium.commission,
        "paymentType": policy.payment_method.payment_option.value,
        "currency": "TURKISH_LIRA",
        "exchangeRate": 1,
        "netPremiumTL": premium.net_premium,
        "grossPremiumTL": premium.gross_premium,
        "commissionTL": premium.commission,
        "insuranceCompanyProposalNumber": premium.proposal_number,
        "insuranceCompanyPolicyNumber": policy.number,
        "insuranceServicesPolicyReference": None,
        "createdAt": iso_datetime(policy.created_at),
        "startDate": policy.start_date,
        "endDate": policy.end_date,
        "arrangementDate": turkish_date(policy.created_at).isoformat(),
        "insuranceCompanyEndorsementNumber": 0,
        "insuranceCompanyRenewalNumber": 0,
        "snapshot": policy.snapshot,
        "coverage": policy.coverage,
        "state": policy_state(state, policy).value,
        "createdBy": SANDBOX_USER,
        "representedBy": None,
        "daskPolicyNumber": None,
        "channel": policy.channel.value,
        "metadata": None,
        "agentBranchId": policy.agent_branch_id,
        "netPremiumChange": None,
        "grossPremiumChange": None,
        "commissionChange": None,
        "currentVersion": 1,
        "versions": None,
    }


def policy_document_url(origin: str, policy_id: str) -> str:
    return f"{origin}/sandbox/documents/{policy_id}.pdf"


def _own_policy(state: SandboxState, policy_id: str, customer: Customer | ServiceAccount) -> Policy:
    settle(state)
    found = state.policies.get(policy_id.lower())
    return require_own(found, lambda p: p.customer_id, customer, "Policy")


def _parse_communication(raw: dict[str, Any]) -> EmailCommunication | SmsCommunication:
    """`{type: "email", email}` or `{type: "sms", phoneNumber}`; `$type` accepted for `type`
    (reference 12.3 does not know which the server wants)."""
    if "$type" in raw and "type" not in raw:
        raw = {("type" if key == "$type" else key): value for key, value in raw.items()}
    model: type[EmailCommunication | SmsCommunication] = (
        SmsCommunication if raw.get("type") == "sms" else EmailCommunication
    )
    try:
        parsed = parse_body(model, raw)
    except ProblemError as problem:
        raise ProblemError.input_validation(
            ValidationIssue(
                f"communication.{issue.property_name}",
                issue.error_message.replace("'", "'communication.", 1),
                issue.attempted_value,
            )
            for issue in problem.validation_errors
        ) from None
    if isinstance(parsed, EmailCommunication) and not _EMAIL_RE.fullmatch(parsed.email):
        raise ProblemError.input_validation(
            [
                ValidationIssue(
                    "communication.email",
                    "'communication.email' is not an e-mail address.",
                    parsed.email,
                )
            ]
        )
    return parsed


def build_policies_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["policies"])

    @router.get("/policies/{policy_id}")
    async def get_policy(policy_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.POLICY_GET)
        customer = authenticate_any(state, request, Operation.POLICY_GET)
        with state.lock:
            return JSONResponse(policy_json(state, _own_policy(state, policy_id, customer)))

    @router.get("/policies/{policy_id}/document", response_model=None)
    async def get_document(policy_id: str, request: Request) -> Response:
        await inject_faults(state, Operation.POLICY_DOCUMENT)
        customer = authenticate(state, request)
        with state.lock:
            policy = _own_policy(state, policy_id, customer)
            if state.config.document_inline:
                state.document_downloads[f"{policy.id}.pdf"] += 1
                return Response(
                    policy_pdf(state, policy),
                    media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{policy.number}.pdf"'},
                )
            return JSONResponse({"url": policy_document_url(base_url(request), policy.id)})

    @router.post("/policies/{policy_id}/document/send", status_code=204)
    async def send_document(policy_id: str, request: Request) -> Response:
        await inject_faults(state, Operation.POLICY_DOCUMENT_SEND)
        customer = authenticate(state, request)
        body = parse_body(SendDocumentBody, await read_json_object(request))
        body_must_repeat_path({"policyId": body.policy_id}, {"policyId": policy_id})
        require_self(body.customer_id, customer)
        communication = _parse_communication(body.communication)
        with state.lock:
            policy = _own_policy(state, policy_id, customer)
            state.document_sends[policy.id] += 1
            state.document_send_channels[communication.type] += 1
        return Response(status_code=204)

    return router
