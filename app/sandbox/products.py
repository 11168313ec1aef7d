"""Per-product calls of a proposal (reference 5.3-5.7): the docs-only product list and
single product, coverage, premium detail (both path variants), retry, information form."""

import hashlib

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from .auth import authenticate
from .config import Operation
from .enums import ProposalProductState
from .faults import inject_faults
from .lifecycle import retry_product
from .problems import ProblemError
from .proposals import own_product, own_proposal, product_json
from .routing import base_url, body_must_repeat_path
from .state import SandboxState
from .validation import WireModel, parse_body, read_json_object

PRODUCT = "/proposals/{proposal_id}/products/{product_id}"


class RetryBody(WireModel):
    proposal_id: str = Field(alias="proposalId", strict=True)
    proposal_product_id: str = Field(alias="proposalProductId", strict=True)


def _services_id(*parts: object) -> str:
    """A stable 24-hex id of InsurUp's insurance-services layer."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:24]


def information_form_url(origin: str, product_id: str) -> str:
    return f"{origin}/sandbox/documents/information-forms/{product_id}.pdf"


def build_products_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["proposals"])

    @router.get("/proposals/{proposal_id}/products")
    async def list_products(proposal_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PRODUCTS_LIST)
        customer = authenticate(state, request)
        with state.lock:
            proposal = own_proposal(state, proposal_id, customer)
            origin = base_url(request)
            return JSONResponse([product_json(p, origin) for p in proposal.products])

    @router.get(PRODUCT)
    async def get_product(proposal_id: str, product_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PRODUCT_GET)
        customer = authenticate(state, request)
        with state.lock:
            product = own_product(own_proposal(state, proposal_id, customer), product_id)
            return JSONResponse(product_json(product, base_url(request)))

    @router.get(PRODUCT + "/coverage")
    async def product_coverage(proposal_id: str, product_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.PRODUCT_COVERAGE)
        customer = authenticate(state, request)
        with state.lock:
            product = own_product(own_proposal(state, proposal_id, customer), product_id)
            return JSONResponse({"coverage": product.coverage})

    async def premium_detail(
        proposal_id: str, product_id: str, installment_number: int, request: Request
    ) -> JSONResponse:
        await inject_faults(state, Operation.PREMIUM_DETAIL)
        customer = authenticate(state, request)
        with state.lock:
            proposal = own_proposal(state, proposal_id, customer)
            product = own_product(proposal, product_id)
            premium = product.premium(installment_number)
            if premium is None:
                raise ProblemError.not_found(
                    f"The product offers no premium for {installment_number} installment(s).",
                    codes=["PREMIUM_NOT_FOUND"],
                )
            return JSONResponse(
                {
                    "proposalId": proposal.id,
                    "proposalProductId": product.id,
                    "insurerCustomerId": proposal.insurer_customer_id,
                    "insuredCustomerId": proposal.insured_customer_id,
                    "installmentNumber": installment_number,
                    "insuranceServicesProposalId": _services_id("proposal", product.id),
                    "insuranceServicesPremiumId": _services_id(
                        "premium", product.id, installment_number
                    ),
                    "insuranceCompanyProposalNumber": premium.proposal_number,
                }
            )

    router.add_api_route(PRODUCT + "/premium-detail/{installment_number}", premium_detail)
    router.add_api_route(PRODUCT + "/premiums/{installment_number}", premium_detail)

    @router.post(PRODUCT + "/retry", status_code=204)
    async def retry(proposal_id: str, product_id: str, request: Request) -> Response:
        await inject_faults(state, Operation.PRODUCT_RETRY)
        customer = authenticate(state, request)
        body = parse_body(RetryBody, await read_json_object(request))
        body_must_repeat_path(
            {"proposalId": body.proposal_id, "proposalProductId": body.proposal_product_id},
            {"proposalId": proposal_id, "proposalProductId": product_id},
        )
        with state.lock:
            product = own_product(own_proposal(state, proposal_id, customer), product_id)
            if product.state is not ProposalProductState.FAILED:
                raise ProblemError.invalid_state(
                    f"Only a FAILED product can be retried; this one is {product.state.value}.",
                    codes=["PROPOSAL_PRODUCT_NOT_FAILED"],
                )
            retry_product(state, product)
            state.product_retries[product.id] += 1
        return Response(status_code=204)

    async def information_form(proposal_id: str, product_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.INFORMATION_FORM)
        customer = authenticate(state, request)
        with state.lock:
            product = own_product(own_proposal(state, proposal_id, customer), product_id)
            if not product.priced:
                raise ProblemError.invalid_state(
                    f"The product is {product.state.value}; it has no information form yet.",
                    codes=["PROPOSAL_PRODUCT_NOT_ACTIVE"],
                )
            return JSONResponse({"url": information_form_url(base_url(request), product.id)})

    router.add_api_route(PRODUCT + "/information-form", information_form)
    router.add_api_route(PRODUCT + "/information-form-document", information_form)

    return router
