"""Customer vehicles (reference 2.2-2.4): list, get, create, external lookup."""

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from .auth import authenticate
from .catalogue import brand_by_reference, model_by_reference
from .config import Operation
from .enums import AccessoryType, VehicleFuelType, VehicleUtilizationStyle
from .faults import inject_faults
from .lookup import PlateStatus, is_valid_plate_code, plate_status, plate_text, vehicle_facts
from .problems import ProblemError, ValidationIssue
from .records import Vehicle
from .routing import require_own, require_self
from .state import SandboxState
from .validation import (
    DateOnly,
    Guid,
    WireModel,
    parse_body,
    read_json_object,
    type_first_issues,
)

SEED_SHAPE_HINTS = {
    "plate": '\'plate\' must be an object like {"city": 34, "code": "ABC123"}.',
    "documentSerialCode": (
        "'documentSerialCode' is not a property; send 'documentSerial': {\"code\", \"number\"}."
    ),
    "documentSerialNumber": (
        "'documentSerialNumber' is not a property; send 'documentSerial': {\"code\", \"number\"}."
    ),
    "brandCode": "'brandCode' is not a property; send 'brandReference' (vehicle-parameters).",
    "modelCode": "'modelCode' is not a property; send 'modelTypeReference' (vehicle-parameters).",
    "year": "'year' is not a property; send 'modelYear'.",
    "utilizationStyle": "'utilizationStyle' must be a VehicleUtilizationStyle such as PRIVATE_CAR.",
}


class PlateBody(WireModel):
    city: int = Field(strict=True, ge=1, le=81)
    code: str | None = Field(default=None, strict=True, max_length=6)


class FuelBody(WireModel):
    type: VehicleFuelType
    custom_lpg: bool | None = Field(default=None, alias="customLpg", strict=True)
    custom_lpg_price: float | None = Field(default=None, alias="customLpgPrice", ge=0)


class DocumentSerialBody(WireModel):
    """The registration (ruhsat) serial: InsurUp documents `AB` / `123456` (2 letters, 6
    digits) and uses `A/1234567` (1 letter, 7 digits) as its test serial; 1-3 letters and
    5-8 digits are accepted."""

    code: str = Field(strict=True, pattern=r"^[A-Z]{1,3}$")
    number: str = Field(strict=True, pattern=r"^[0-9]{5,8}$")


class AccessoryBody(WireModel):
    type: AccessoryType = Field(alias="$type")
    price: float = Field(ge=0)


class OldPolicyBody(WireModel):
    insurance_company_policy_number: str | None = Field(
        default=None, alias="insuranceCompanyPolicyNumber", strict=True
    )
    insurance_company_renewal_number: str | int | None = Field(
        default=None, alias="insuranceCompanyRenewalNumber"
    )
    insurance_company_reference: str | int | None = Field(
        default=None, alias="insuranceCompanyReference"
    )
    agent_number: str | None = Field(default=None, alias="agentNumber", strict=True)
    end_date: DateOnly | None = Field(default=None, alias="endDate")


class LossPayeeClauseBody(WireModel):
    type: str | None = Field(default=None, strict=True)
    bank: str | dict[str, Any] | None = None
    bank_branch: str | dict[str, Any] | None = Field(default=None, alias="bankBranch")
    financial_institution: str | dict[str, Any] | None = Field(
        default=None, alias="financialInstitution"
    )
    credit_agreement_number: str | None = Field(
        default=None, alias="creditAgreementNumber", strict=True
    )


class CreateVehicleBody(WireModel):
    customer_id: Guid = Field(alias="customerId")
    plate: PlateBody
    model_year: int | None = Field(default=None, alias="modelYear", strict=True, ge=1950, le=2100)
    brand_reference: str | None = Field(default=None, alias="brandReference", strict=True)
    model_type_reference: str | None = Field(default=None, alias="modelTypeReference", strict=True)
    utilization_style: VehicleUtilizationStyle = Field(alias="utilizationStyle")
    fuel: FuelBody | None = None
    engine: str | None = Field(default=None, strict=True, min_length=6, max_length=40)
    chassis: str | None = Field(default=None, strict=True, min_length=4, max_length=17)
    document_serial: DocumentSerialBody | None = Field(default=None, alias="documentSerial")
    registration_date: DateOnly | None = Field(default=None, alias="registrationDate")
    seat_number: int | None = Field(default=None, alias="seatNumber", strict=True, ge=1, le=50)
    accessories: list[AccessoryBody]
    kasko_old_policy: OldPolicyBody | None = Field(default=None, alias="kaskoOldPolicy")
    trafik_old_policy: OldPolicyBody | None = Field(default=None, alias="trafikOldPolicy")
    loss_payee_clause: LossPayeeClauseBody | None = Field(default=None, alias="lossPayeeClause")


class LookupBody(WireModel):
    customer_id: Guid = Field(alias="customerId")
    plate: PlateBody
    document_serial: DocumentSerialBody | None = Field(default=None, alias="documentSerial")


def vehicle_json(vehicle: Vehicle, *, with_accessories: bool = False) -> dict[str, object]:
    """`GetCustomerVehiclesResult`: note `engineNumber` / `chassisNumber` and `fuel {type}`."""
    body: dict[str, object] = {
        "id": vehicle.id,
        "customerId": vehicle.customer_id,
        "hasPlate": vehicle.has_plate,
        "plate": vehicle.plate_json(),
        "model": vehicle.model_json(),
        "utilizationStyle": vehicle.utilization_style.value,
        "fuel": vehicle.fuel,
        "engineNumber": vehicle.engine,
        "chassisNumber": vehicle.chassis,
        "registrationDate": vehicle.registration_date,
        "seatNumber": vehicle.seat_number,
        "documentSerial": vehicle.document_serial,
        "kaskoOldPolicy": vehicle.kasko_old_policy,
        "trafikOldPolicy": vehicle.trafik_old_policy,
        "lossPayeeClause": vehicle.loss_payee_clause,
    }
    if with_accessories:
        body["accessories"] = vehicle.accessories
    return body


def _plate_code(plate: PlateBody, *, required: bool) -> str:
    code = (plate.code or "").strip().upper()
    if (code or required) and not is_valid_plate_code(code):
        raise ProblemError.input_validation(
            [
                ValidationIssue(
                    "plate.code",
                    "'plate.code' must be the letters and digits after the city code "
                    "(e.g. ABC123), at most 6 characters.",
                    plate.code,
                )
            ]
        )
    return code


def _catalogue_issues(body: CreateVehicleBody) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    brand = None if body.brand_reference is None else brand_by_reference(body.brand_reference)
    if body.brand_reference is not None and brand is None:
        issues.append(
            ValidationIssue(
                "brandReference", "'brandReference' is not a known brand.", body.brand_reference
            )
        )
    if body.model_type_reference is None:
        return issues
    model = model_by_reference(body.model_type_reference)
    if model is None or (brand is not None and model.brand != brand):
        issues.append(
            ValidationIssue(
                "modelTypeReference",
                "'modelTypeReference' is not a known model of the brand.",
                body.model_type_reference,
            )
        )
    elif body.model_year is not None and not model.offered_in(body.model_year):
        issues.append(
            ValidationIssue(
                "modelYear",
                f"'modelYear' must be within {model.first_year}-{model.last_year} "
                "for this model type.",
                body.model_year,
            )
        )
    return issues


def _masked_issues(body: CreateVehicleBody) -> list[ValidationIssue]:
    """A masked lookup value (`W***8`, `chassisIsMasked`) must not be stored (InsurUp/docs:
    "bu maskeli değeri kaydetmeyin"); the sandbox refuses it."""
    return [
        ValidationIssue(
            name,
            f"'{name}' looks masked ('*'); send the real value or leave it out.",
            value,
        )
        for name, value in (("chassis", body.chassis), ("engine", body.engine))
        if value is not None and "*" in value
    ]


def _new_vehicle(state: SandboxState, customer_id: str, body: CreateVehicleBody) -> Vehicle:
    code = _plate_code(body.plate, required=False)
    issues = _masked_issues(body) + _catalogue_issues(body)
    if issues:
        raise ProblemError.input_validation(issues)
    model = model_by_reference(body.model_type_reference or "")
    brand = model.brand if model is not None else brand_by_reference(body.brand_reference or "")
    created_at = state.now()
    return Vehicle(
        id=str(uuid.uuid4()),
        customer_id=customer_id,
        plate_city=body.plate.city,
        plate_code=code,
        utilization_style=body.utilization_style,
        created_at=created_at,
        brand=brand,
        model_type=model,
        model_year=body.model_year,
        fuel=None if body.fuel is None else body.fuel.model_dump(by_alias=True, mode="json"),
        engine=body.engine,
        chassis=body.chassis,
        registration_date=body.registration_date,
        seat_number=body.seat_number,
        document_serial=(
            None if body.document_serial is None else body.document_serial.model_dump()
        ),
        accessories=[a.model_dump(by_alias=True, mode="json") for a in body.accessories],
        kasko_old_policy=_dump(body.kasko_old_policy),
        trafik_old_policy=_dump(body.trafik_old_policy),
        loss_payee_clause=_dump(body.loss_payee_clause),
    )


def _dump(model: WireModel | None) -> dict[str, Any] | None:
    return None if model is None else model.model_dump(by_alias=True, mode="json")


def _check_accessory_order(raw: dict[str, Any]) -> list[ValidationIssue]:
    accessories = raw.get("accessories")
    if not isinstance(accessories, list):
        return []
    return [
        issue
        for index, item in enumerate(accessories)
        if isinstance(item, dict)
        for issue in type_first_issues(item, f"accessories[{index}].")
    ]


def build_vehicles_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["vehicles"])

    @router.get("/customers/me/vehicles")
    async def my_vehicles(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VEHICLES_LIST)
        customer = authenticate(state, request)
        return JSONResponse([vehicle_json(v) for v in state.vehicles_of(customer.id)])

    @router.get("/customers/{customer_id}/vehicles")
    async def customer_vehicles(customer_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VEHICLES_LIST)
        customer = authenticate(state, request)
        require_self(customer_id, customer)
        return JSONResponse([vehicle_json(v) for v in state.vehicles_of(customer.id)])

    @router.get("/customers/{customer_id}/vehicles/{vehicle_id}")
    async def get_vehicle(customer_id: str, vehicle_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VEHICLE_GET)
        customer = authenticate(state, request)
        require_self(customer_id, customer)
        found = state.vehicles.get(vehicle_id.lower())
        vehicle = require_own(found, lambda v: v.customer_id, customer, "Vehicle")
        return JSONResponse(vehicle_json(vehicle, with_accessories=True))

    @router.post("/customers/{customer_id}/vehicles")
    async def create_vehicle(customer_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VEHICLE_CREATE)
        customer = authenticate(state, request)
        require_self(customer_id, customer)
        raw = await read_json_object(request)
        order_issues = _check_accessory_order(raw)
        body = parse_body(CreateVehicleBody, raw, SEED_SHAPE_HINTS)
        if order_issues:
            raise ProblemError.input_validation(order_issues)
        require_self(body.customer_id, customer)
        vehicle = _new_vehicle(state, customer.id, body)
        with state.lock:
            duplicate = vehicle.has_plate and any(
                (v.plate_city, v.plate_code) == (vehicle.plate_city, vehicle.plate_code)
                for v in state.vehicles_of(customer.id)
            )
            if duplicate:
                plate = plate_text(vehicle.plate_city, vehicle.plate_code)
                raise ProblemError.duplicate(
                    f"The customer already has the vehicle {plate}.",
                    codes=["VEHICLE_ALREADY_EXISTS"],
                )
            state.add_vehicle(vehicle)
            state.vehicle_creations[customer.id] += 1
        return JSONResponse({"id": vehicle.id})

    @router.post("/customers/{customer_id}/vehicles/external-lookup")
    async def external_lookup(customer_id: str, request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VEHICLE_LOOKUP)
        customer = authenticate(state, request)
        require_self(customer_id, customer)
        body = parse_body(LookupBody, await read_json_object(request), SEED_SHAPE_HINTS)
        require_self(body.customer_id, customer)
        code = _plate_code(body.plate, required=True)
        plate = plate_text(body.plate.city, code)
        state.vehicle_lookups[plate] += 1
        status = plate_status(body.plate.city, code)
        if status is PlateStatus.SERVICE_FAILURE:
            raise ProblemError.upstream(
                "The vehicle information service (Tramer) did not answer; "
                "fill in the vehicle manually.",
                status=500,
                codes=["VEHICLE_LOOKUP_FAILED"],
            )
        if status is PlateStatus.UNKNOWN:
            raise ProblemError.not_found(
                f"No vehicle is registered with the plate {plate}.", codes=["VEHICLE_NOT_FOUND"]
            )
        facts = vehicle_facts(body.plate.city, code)
        config = state.config
        return JSONResponse(
            facts.to_json(partial_model=config.lookup_partial_model, masked=config.lookup_masked)
        )

    return router
