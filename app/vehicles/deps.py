"""The vehicles feature's service as an `Annotated` dependency."""

from typing import Annotated

from fastapi import Depends, Request

from app.vehicles.service import VehicleService


async def get_vehicles(request: Request) -> VehicleService:
    service: VehicleService = request.app.state.services.vehicles
    return service


VehiclesDep = Annotated[VehicleService, Depends(get_vehicles)]
