"""InsurUp's vehicle shapes (list, lookup, create) and its enums' ordinals."""

from datetime import date
from typing import Any

from pydantic import Field

from app.insurup.models import Wire

# Query strings bind InsurUp enums by ordinal (a string gives 400); bodies take the names.
UTILIZATION_ORDINALS: dict[str, int] = {
    name: index
    for index, name in enumerate(
        [
            "UNKNOWN", "PRIVATE_CAR", "TAXI", "ROUTE_BASED_MINIBUS", "MEDIUM_BUS", "LARGE_BUS",
            "PICKUP_TRUCK", "CLOSED_BED_PICKUP", "TRUCK", "CONSTRUCTION_MACHINERY", "TRACTOR",
            "TRAILER", "MOTORCYCLE", "TANKER", "TOW_TRUCK", "MOTORIZED_CARAVAN",
            "TOWABLE_CARAVAN", "AGRICULTURAL_MACHINE_EXCLUDING_TRACTOR", "OPEN_BODY_TRUCK",
            "RENTAL_CAR", "ARMORED_VEHICLE", "MINIBUS_SHARED_TAXI", "JEEP", "JEEP_SAV",
            "JEEP_SUV", "JEEP_RENTAL", "JEEP_TAXI", "AMBULANCE", "FIREFIGHTER_CAR", "HEARSE",
            "CHAUFFEURED_RENTAL_CAR", "OPERATIONAL_RENTAL", "PRIVATE_MINIBUS", "ROUTE_MINIBUS",
            "SERVICE_MINIBUS", "COMPANY_MINIBUS", "RENTAL_MINIBUS", "AMBULANCE_MINIBUS",
            "MINIBUS_BROADCASTING_VEHICLE", "MINIBUS_ARMORED_TRANSPORT",
            "SMALL_BUS_15_35_PASSENGERS", "SMALL_BUS_SERVICE", "SMALL_BUS_CITY",
            "SMALL_BUS_ROUTE", "LARGE_BUS_36_PLUS", "DUMP_TRUCK", "REFRIGERATED_TRUCK",
            "TRUCK_WITH_CONCRETE_MIXER", "SILO_TRUCK", "TRUCK_WITH_CONCRETE_PUMP", "ROCK_TRUCK",
            "TRUCK_WITH_CRANE", "HEAVY_MACHINERY", "EXCAVATOR", "LOADER", "BULLDOZER",
            "SCRAPER", "GRADER", "ROAD_ROLLER", "MOBILE_CRANE", "INDOOR_FORKLIFT",
            "OUTDOOR_FORKLIFT", "MOBILE_COMPRESSOR", "MOBILE_PUMP", "MOBILE_WELDING_MACHINE",
            "COMBINE_HARVESTER", "TANKER_ACID_CARRIER", "TANKER_WATER_FUEL_CARRIER",
            "TANKER_EXPLOSIVE_FLAMMABLE", "TOW_TRUCK_TRACTOR", "TOW_TRUCK_TANKER",
            "PANEL_GLASS_VAN_MINUBUS",
        ]
    )
}  # fmt: skip
FUEL_TYPES = frozenset({"GASOLINE", "DIESEL", "LPG", "ELECTRIC", "LPG_GASOLINE", "HYBRID"})


class Parameter(Wire):
    value: str | int
    text: str = ""


class PlateWire(Wire):
    city: int
    code: str | None = None


class SerialWire(Wire):
    code: str | None = None
    number: str | None = None


class ModelWire(Wire):
    brand: Parameter | None = None
    year: int | None = None
    type: Parameter | None = None


class FuelWire(Wire):
    type: str | None = None


class VehicleWire(Wire):
    """An item of `GET /api/customers/me/vehicles`."""

    id: str
    plate: PlateWire | None = None
    model: ModelWire | None = None
    utilization_style: str | None = Field(default=None, alias="utilizationStyle")
    fuel: FuelWire | None = None
    document_serial: SerialWire | None = Field(default=None, alias="documentSerial")
    registration_date: date | None = Field(default=None, alias="registrationDate")


class LookupWire(Wire):
    """`external-lookup`'s answer: note `fuelType` is bare here, unlike the list."""

    plate: PlateWire | None = None
    document_serial: SerialWire | None = Field(default=None, alias="documentSerial")
    model: ModelWire | None = None
    fuel_type: str | None = Field(default=None, alias="fuelType")
    utilization_style: str | None = Field(default=None, alias="utilizationStyle")
    registration_date: date | None = Field(default=None, alias="registrationDate")
    chassis: str | None = None
    engine: str | None = None
    seat_number: int | None = Field(default=None, alias="seatNumber")


def create_body(
    *,
    customer_id: str,
    province: int,
    plate_code: str,
    serial_code: str,
    serial_number: str,
    brand_reference: str,
    model_type_reference: str,
    model_year: int,
    utilization_style: str,
    fuel_type: str | None,
    chassis: str | None = None,
    engine: str | None = None,
    registration_date: date | None = None,
) -> dict[str, Any]:
    """`POST /api/customers/{id}/vehicles`: the contract body (plate split, enums by name)."""
    body: dict[str, Any] = {
        "customerId": customer_id,
        "plate": {"city": province, "code": plate_code},
        "modelYear": model_year,
        "brandReference": brand_reference,
        "modelTypeReference": model_type_reference,
        "utilizationStyle": utilization_style,
        "documentSerial": {"code": serial_code, "number": serial_number},
        "accessories": [],
    }
    if fuel_type:
        body["fuel"] = {"type": fuel_type, "customLpg": False, "customLpgPrice": None}
    if chassis:
        body["chassis"] = chassis
    if engine:
        body["engine"] = engine
    if registration_date:
        body["registrationDate"] = registration_date.isoformat()
    return body
