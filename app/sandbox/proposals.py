"""Kasko proposals (reference 5.1, 5.2): `POST proposals` and `GET proposals/{id}`.

One product per insurer per coverage group. Products start WAITING and are priced after
their own delay (`config.pricing_delay_seconds`, robots slower); exactly one product per
coverage group fails with an `errorMessage` (which one is a hash of the proposal id).
"""

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, Field

from .auth import authenticate, authenticate_any
from .catalogue import INSURERS
from .config import Operation
from .coverage import group_coverage
from .customers import SANDBOX_USER
from .enums import Channel, ProductBranch, ProposalProductState
from .faults import inject_faults
from .lifecycle import one_year_later, proposal_state, settle, turkish_date
from .pricing import (
    failing_insurer_index,
    failure_message,
    premiums_for,
    pricing_delay,
    undamaged_discount,
)
from .problems import ProblemError, ValidationIssue
from .records import PricingOutcome, Proposal, ProposalProduct, Vehicle
from .routing import base_url, require_own, require_self
from .snapshots import kasko_snapshot
from .state import Customer, SandboxState, ServiceAccount, iso_datetime
from .validation import (
    DateOnly,
    Guid,
    WireModel,
    parse_polymorphic_body,
    read_json_object,
    type_first_issues,
)

MAX_COVERAGE_GROUPS = 3
"""DOC-GEN: send 1-3 coverage group ids per proposal."""
MAX_START_DAYS = 90


def _object_id(value: object) -> object:
    if not isinstance(value, str) or len(value) != 24:
        raise ValueError("must be a 24-character hexadecimal coverage group id")
    try:
        int(value, 16)
    except ValueError:
        raise ValueError("must be a 24-character hexadecimal coverage group id") from None
    return value.lower()


ObjectIdString = Annotated[str, BeforeValidator(_object_id)]

SEED_SHAPE_HINTS = {
    "type": "'type' is not a property; the discriminator is '$type' (\"kasko\"), first.",
    "customerId": (
        "'customerId' is not a property; send 'insurerCustomerId' and 'insuredCustomerId'."
    ),
    "channel": "'channel' must be an UPPER_SNAKE Channel such as WEBSITE or MOBILE_APP.",
    "$type": "'$type' must be \"kasko\" (the only branch the sandbox prices).",
}


class CreateProposalBody(WireModel):
    type: Literal["kasko"] = Field(alias="$type")
    product_branch: ProductBranch = Field(alias="productBranch")
    insurer_customer_id: Guid = Field(alias="insurerCustomerId")
    insured_customer_id: Guid = Field(alias="insuredCustomerId")
    vehicle_id: Guid = Field(alias="vehicleId")
    coverage_group_ids: list[ObjectIdString] | None = Field(default=None, alias="coverageGroupIds")
    coverage: dict[str, Any] | None = None
    channel: Channel
    agent_branch_id: str | None = Field(default=None, alias="agentBranchId", strict=True)
    policy_start_date: DateOnly | None = Field(default=None, alias="policyStartDate")


# --- wire shapes ------------------------------------------------------------------------


def product_json(product: ProposalProduct, origin: str) -> dict[str, object]:
    """A `products[]` item of `GetProposalByIdResult` (reference 5.2)."""
    insurer = product.insurer
    priced = product.priced
    return {
        "id": product.id,
        "insuranceCompanyId": insurer.id,
        "insuranceCompanyName": insurer.name,
        "insuranceCompanyLogo": origin + insurer.logo_path(),
        "productId": insurer.product_id,
        "productName": insurer.product_name,
        "productType": insurer.product_type.value,
        "state": product.state.value,
        "premiums": [p.to_json() for p in product.premiums] if priced else [],
        "supportedPaymentOptions": [o.value for o in insurer.payment_options],
        "policyId": product.policy_id,
        "errorMessage": product.error_message,
        "needsInvestigationByCompany": False,
        "hasVocationalDiscount": False,
        "hasUndamagedDiscount": priced and product.has_undamaged_discount,
        "hasUndamagedDiscountRate": product.undamaged_discount_rate if priced else None,
        "revised": False,
        "isManual": False,
        "manualPdfUrl": None,
        "coverageGroupId": product.coverage_group_id,
        "coverageGroupName": product.coverage_group_name,
        "initialCoverage": product.coverage,
        "insuranceServiceProviderCoverage": product.coverage if priced else None,
        "pdfCoverage": None,
        "optimalCoverage": product.coverage if priced else None,
    }


def proposal_json(proposal: Proposal, origin: str) -> dict[str, object]:
    succeeded = [p for p in proposal.products if p.priced]
    singles = [p.premiums[0].gross_premium for p in succeeded]
    start = proposal.policy_start_date
    return {
        "proposalId": proposal.id,
        "productBranch": ProductBranch.KASKO.value,
        "state": proposal_state(proposal).value,
        "channel": proposal.channel.value,
        "createdAt": iso_datetime(proposal.created_at),
        "insurerCustomerId": proposal.insurer_customer_id,
        "insuredCustomerId": proposal.insured_customer_id,
        "totalProductsCount": len(proposal.products),
        "succeedProductsCount": len(succeeded),
        "lowestPremium": min(singles, default=None),
        "highestPremium": max(singles, default=None),
        "agentUserCreatedBy": SANDBOX_USER,
        "representedBy": None,
        "agentBranchId": proposal.agent_branch_id,
        "initialCoverage": None,
        "policyStartDate": start,
        "policyEndDate": (
            None if start is None else one_year_later(dt.date.fromisoformat(start)).isoformat()
        ),
        "coverageGroups": [
            {
                "id": group_id,
                "name": name,
                "description": None,
                "coverageTable": [{"coverage": group_coverage(name)}],
            }
            for group_id, name in proposal.coverage_groups
            if group_id is not None
        ],
        "snapshot": proposal.snapshot,
        "products": [product_json(p, origin) for p in proposal.products],
    }


# --- reading ----------------------------------------------------------------------------


def own_proposal(
    state: SandboxState, proposal_id: str, customer: Customer | ServiceAccount
) -> Proposal:
    """Settle due transitions, then the customer's proposal (404 unknown / 403 foreign; a
    service account reaches every proposal)."""
    settle(state)
    found = state.proposals.get(proposal_id.lower())
    return require_own(found, lambda p: p.insurer_customer_id, customer, "Proposal")


def own_product(proposal: Proposal, product_id: str) -> ProposalProduct:
    for product in proposal.products:
        if product.id == product_id.lower():
            return product
    raise ProblemError.not_found(
        "The proposal has no such product.", codes=["PROPOSAL_PRODUCT_NOT_FOUND"]
    )


# --- creating ---------------------------------------------------------------------------


def _groups(state: SandboxState, body: CreateProposalBody) -> list[tuple[str | None, str | None]]:
    ids = list(dict.fromkeys(body.coverage_group_ids or []))
    if len(ids) > MAX_COVERAGE_GROUPS:
        raise ProblemError.input_validation(
            [
                ValidationIssue(
                    "coverageGroupIds",
                    f"'coverageGroupIds' may name at most {MAX_COVERAGE_GROUPS} groups.",
                    ids,
                )
            ]
        )
    if ids:
        names = state.config.coverage_groups
        return [(gid, names.get(gid, f"Teminat Grubu {gid[-6:]}")) for gid in ids]
    if body.coverage is not None:
        issues = type_first_issues(body.coverage, "coverage.")
        if body.coverage.get("$type") != "kasko":
            issues.append(
                ValidationIssue(
                    "coverage.$type", "'coverage.$type' must be \"kasko\".", body.coverage
                )
            )
        if issues:
            raise ProblemError.input_validation(issues)
        return [(None, None)]
    raise ProblemError.business_validation(
        ["COVERAGE_REQUIRED"], "Send 'coverageGroupIds' (1-3 coverage groups) or a 'coverage'."
    )


def _check_start_date(state: SandboxState, start: str | None) -> None:
    if start is None:
        return
    today = turkish_date(state.now())
    date = dt.date.fromisoformat(start)
    if not today <= date <= today + dt.timedelta(days=MAX_START_DAYS):
        raise ProblemError.input_validation(
            [
                ValidationIssue(
                    "policyStartDate",
                    f"'policyStartDate' must be between today and {MAX_START_DAYS} days ahead.",
                    start,
                )
            ]
        )


def _products(
    state: SandboxState,
    proposal_id: str,
    vehicle: Vehicle,
    body: CreateProposalBody,
    groups: list[tuple[str | None, str | None]],
) -> list[ProposalProduct]:
    now = state.now()
    year = turkish_date(now).year
    products: list[ProposalProduct] = []
    for group_id, group_name in groups:
        coverage = (
            body.coverage if group_id is None and body.coverage else group_coverage(group_name)
        )
        failing = failing_insurer_index(proposal_id, group_id, len(INSURERS))
        for index, insurer in enumerate(INSURERS):
            product_id = state.new_object_id()
            discount = undamaged_discount(vehicle, insurer)
            fails = index == failing
            products.append(
                ProposalProduct(
                    id=product_id,
                    proposal_id=proposal_id,
                    insurer=insurer,
                    coverage_group_id=group_id,
                    coverage_group_name=group_name,
                    coverage=coverage,
                    premiums=premiums_for(vehicle, insurer, group_name, product_id, year),
                    state=ProposalProductState.WAITING,
                    priced_at=now
                    + pricing_delay(
                        state.config.pricing_delay_seconds, product_id, insurer.product_type, 0
                    ),
                    outcome=PricingOutcome.FAILED if fails else PricingOutcome.ACTIVE,
                    failure_message=failure_message(proposal_id, group_id) if fails else None,
                    has_undamaged_discount=discount is not None,
                    undamaged_discount_rate=discount,
                )
            )
    return products


def build_proposals_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["proposals"])

    @router.post("/proposals")
    async def create_proposal(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PROPOSAL_CREATE)
        customer = authenticate(state, request)
        raw = await read_json_object(request)
        body = parse_polymorphic_body(CreateProposalBody, raw, SEED_SHAPE_HINTS)
        if body.product_branch is not ProductBranch.KASKO:
            raise ProblemError.input_validation(
                [
                    ValidationIssue(
                        "productBranch",
                        "'productBranch' must be KASKO for a kasko proposal.",
                        body.product_branch.value,
                    )
                ]
            )
        require_self(body.insurer_customer_id, customer)
        require_self(body.insured_customer_id, customer)
        found = state.vehicles.get(body.vehicle_id)
        vehicle = require_own(found, lambda v: v.customer_id, customer, "Vehicle")
        groups = _groups(state, body)
        _check_start_date(state, body.policy_start_date)
        proposal_id = state.new_object_id()
        proposal = Proposal(
            id=proposal_id,
            insurer_customer_id=customer.id,
            insured_customer_id=customer.id,
            vehicle_id=vehicle.id,
            channel=body.channel,
            created_at=state.now(),
            coverage_groups=groups,
            snapshot=kasko_snapshot(vehicle, customer, customer),
            products=_products(state, proposal_id, vehicle, body, groups),
            agent_branch_id=body.agent_branch_id or customer.agent_branch_id,
            policy_start_date=body.policy_start_date,
        )
        state.add_proposal(proposal)
        state.proposal_creations[customer.id] += 1
        return JSONResponse({"proposalId": proposal.id})

    @router.get("/proposals/{proposal_id}")
    async def get_proposal(proposal_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PROPOSAL_GET)
        customer = authenticate_any(state, request, Operation.PROPOSAL_GET)
        with state.lock:
            proposal = own_proposal(state, proposal_id, customer)
            return JSONResponse(proposal_json(proposal, base_url(request)))

    return router
