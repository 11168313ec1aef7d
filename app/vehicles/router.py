"""Vehicle routes: HTTP only. Every one passes the sale-opportunity gate first."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from app.http.auth import CaseReady, browser_guard
from app.http.responses import UPSTREAM, problems
from app.vehicles.deps import VehiclesDep
from app.vehicles.schemas import Reference, VehicleCreate, VehicleFacts, VehicleLookup, VehicleRead

router = APIRouter(prefix="/api/v1", tags=["vehicles"], dependencies=[Depends(browser_guard)])

_COMMON = (401, 403, *UPSTREAM)


@router.get("/vehicles", response_model=list[VehicleRead], responses=problems(*_COMMON))
async def list_vehicles(record: CaseReady, vehicles: VehiclesDep) -> list[VehicleRead]:
    """The customer's registered vehicles."""
    return await vehicles.all(record)


@router.post(
    "/vehicles/lookup",
    response_model=VehicleFacts,
    responses=problems(404, 422, *_COMMON),
)
async def lookup_vehicle(
    body: VehicleLookup, record: CaseReady, vehicles: VehiclesDep
) -> VehicleFacts:
    """Vehicle facts for a plate and registration serial (`404 vehicle_not_found` if none)."""
    return await vehicles.lookup(record, plate=body.plate, serial=body.document_serial)


@router.post(
    "/vehicles",
    status_code=status.HTTP_201_CREATED,
    response_model=VehicleRead,
    responses=problems(422, *_COMMON),
)
async def create_vehicle(
    body: VehicleCreate, record: CaseReady, vehicles: VehiclesDep
) -> VehicleRead:
    """Register a vehicle; missing details are filled from the plate lookup."""
    return await vehicles.create(record, body)


@router.get("/vehicle-brands", response_model=list[Reference], responses=problems(*_COMMON))
async def list_brands(record: CaseReady, vehicles: VehiclesDep) -> list[Reference]:
    """Vehicle brands for manual entry (cached)."""
    return await vehicles.brands(record)


@router.get("/vehicle-models", response_model=list[Reference], responses=problems(422, *_COMMON))
async def list_models(
    record: CaseReady,
    vehicles: VehiclesDep,
    brand_reference: Annotated[
        str, Query(alias="brandReference", min_length=1, max_length=64, pattern=r"^[\w.-]+$")
    ],
    year: Annotated[int, Query(ge=1950, le=2100)],
) -> list[Reference]:
    """Models of a brand and model year for manual entry (cached)."""
    return await vehicles.models(record, brand=brand_reference, year=year)
