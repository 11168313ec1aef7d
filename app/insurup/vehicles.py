"""InsurUp's vehicle shapes (list, lookup, create) and its vehicle utilization styles.

The gateway's API names utilization styles and fuel types with InsurUp's own words; InsurUp's
query strings bind them by ordinal, which only this module knows.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import Field

from app.insurup.models import Wire
from app.validation import DocumentSerial, Plate

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
# What a customer may choose: every style InsurUp names except its "not known" value.
UTILIZATION_STYLES = frozenset(UTILIZATION_ORDINALS) - {"UNKNOWN"}


def utilization_ordinal(style: str) -> int:
    return UTILIZATION_ORDINALS[style]


def check_utilization(value: str) -> str:
    """A validator for the API's `utilizationStyle` fields and parameters."""
    if value not in UTILIZATION_STYLES:
        raise ValueError("is not a known vehicle utilization style (e.g. PRIVATE_CAR)")
    return value


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
    """`external-lookup`'s answer: note `fuelType` is bare here, unlike the list. InsurUp's
    docs: `partialModel` comes instead of `model` when the model year is masked (brand and
    type only), and a masked chassis or engine (`W***8`, with its flag) must not be saved."""

    plate: PlateWire | None = None
    document_serial: SerialWire | None = Field(default=None, alias="documentSerial")
    full_model: ModelWire | None = Field(default=None, alias="model")
    partial_model: ModelWire | None = Field(default=None, alias="partialModel")
    fuel_type: str | None = Field(default=None, alias="fuelType")
    utilization_style: str | None = Field(default=None, alias="utilizationStyle")
    registration_date: date | None = Field(default=None, alias="registrationDate")
    chassis: str | None = None
    chassis_is_masked: bool = Field(default=False, alias="chassisIsMasked")
    engine: str | None = None
    engine_is_masked: bool = Field(default=False, alias="engineIsMasked")
    seat_number: int | None = Field(default=None, alias="seatNumber")

    @property
    def model(self) -> ModelWire | None:
        return self.full_model or self.partial_model

    @property
    def usable_chassis(self) -> str | None:
        return None if self.chassis_is_masked or "*" in (self.chassis or "") else self.chassis

    @property
    def usable_engine(self) -> str | None:
        return None if self.engine_is_masked or "*" in (self.engine or "") else self.engine


def plate_wire(plate: Plate) -> dict[str, Any]:
    return {"city": plate.province, "code": plate.code}


def serial_wire(serial: DocumentSerial) -> dict[str, str]:
    return {"code": serial.code, "number": serial.number}


@dataclass(frozen=True, slots=True)
class NewVehicle:
    """What `POST /api/customers/{id}/vehicles` needs (plate split, enums by name)."""

    plate: Plate
    serial: DocumentSerial
    brand_reference: str
    model_type_reference: str
    model_year: int
    utilization_style: str
    fuel_type: str | None = None
    chassis: str | None = None
    engine: str | None = None
    seat_number: int | None = None
    registration_date: date | None = None

    def to_wire(self, customer_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "customerId": customer_id,
            "plate": plate_wire(self.plate),
            "modelYear": self.model_year,
            "brandReference": self.brand_reference,
            "modelTypeReference": self.model_type_reference,
            "utilizationStyle": self.utilization_style,
            "documentSerial": serial_wire(self.serial),
            "accessories": [],
        }
        if self.fuel_type:
            body["fuel"] = {"type": self.fuel_type, "customLpg": False, "customLpgPrice": None}
        if self.chassis:
            body["chassis"] = self.chassis
        if self.engine:
            body["engine"] = self.engine
        if self.seat_number:
            body["seatNumber"] = self.seat_number
        if self.registration_date:
            body["registrationDate"] = self.registration_date.isoformat()
        return body
