"""Reference data (reference 2.5, 4.1, 4.4): vehicle brands and models, kasko coverage
choices, insurance companies. All need the customer's token."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .auth import authenticate
from .catalogue import BRANDS, INSURERS, Insurer, brand_by_reference, models_of
from .config import Operation
from .coverage import coverage_choices
from .enums import VehicleUtilizationStyle
from .faults import inject_faults
from .problems import ProblemError, ValidationIssue
from .routing import base_url, query_int
from .state import SandboxState


def insurer_json(insurer: Insurer, origin: str) -> dict[str, object]:
    """`InsuranceCompany` (C-INS), payment options from the DOC-PAY table (6.6)."""
    return {
        "id": insurer.id,
        "name": insurer.name,
        "logo": origin + insurer.logo_path(),
        "enabled": True,
        "supportedPaymentOptions": [option.value for option in insurer.payment_options],
    }


def build_parameters_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["parameters"])

    @router.get("/vehicle-parameters/brands")
    async def brands(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.BRANDS)
        authenticate(state, request)
        return JSONResponse([brand.to_json() for brand in BRANDS])

    @router.get("/vehicle-parameters/models")
    async def models(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.MODELS)
        authenticate(state, request)
        reference = request.query_params.get("brandReference", "").strip()
        if not reference:
            raise ProblemError.input_validation(
                [ValidationIssue("brandReference", "'brandReference' is required.", None)],
                status=400,
            )
        year = query_int(request, "year")
        brand = brand_by_reference(reference)
        found = [] if brand is None else models_of(brand, year)
        return JSONResponse([model.to_json() for model in found])

    @router.get("/coverage-choices:kasko")
    async def kasko_coverage_choices(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.COVERAGE_CHOICES)
        authenticate(state, request)
        style = query_int(request, "vehicleUtilizationStyle")
        if style is not None and not 0 <= style < len(VehicleUtilizationStyle):
            raise ProblemError.input_validation(
                [
                    ValidationIssue(
                        "vehicleUtilizationStyle",
                        f"The value '{style}' is not a VehicleUtilizationStyle ordinal.",
                        style,
                    )
                ],
                status=400,
            )
        company = query_int(request, "insuranceCompanyId")
        insurers = [i for i in INSURERS if company is None or i.id == company]
        return JSONResponse([coverage_choices(insurer) for insurer in insurers])

    @router.get("/insurance-companies")
    async def insurance_companies(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.INSURANCE_COMPANIES)
        authenticate(state, request)
        origin = base_url(request)
        return JSONResponse([insurer_json(insurer, origin) for insurer in INSURERS])

    return router
