"""Deterministic "Tramer" facts for a plate (reference 2.4).

The brand, model, year and fuel of a plate come from a hash of the plate over the
catalogue, so every plate always gives the same car. A few plates are special:

- `34ABC123` (the demo plate, serial `AB123456`): RENAULT CLIO 1.0 TCe Joy, 2021, GASOLINE;
- `06ABC123` (serial `A1234567`, InsurUp's own test serial `A/1234567`): TOYOTA COROLLA 1.5
  Dream, 2022, GASOLINE;
- `35KLM789`: FIAT EGEA 1.3 Multijet Easy, 2019, DIESEL (the seeded vehicle of Mehmet Demir);
- any plate whose code ends in `000`: unknown to Tramer (404 resource-not-found);
- `06ZZ999`: the lookup service fails (500 upstream-service).
"""

import hashlib
import re
from dataclasses import dataclass
from enum import Enum

from .catalogue import MODEL_TYPES, ModelType, model_by_reference
from .enums import Currency, VehicleUtilizationStyle

PLATE_CODE_RE = re.compile(r"[A-Z]{1,3}[0-9]{2,5}")
"""Letters then digits, at most 6 characters (`ABC123`, `A1234`, `AB12`)."""

FAILING_PLATE = (6, "ZZ999")
_SERIAL_LETTERS = "ABCDEFGHJKLMNPRSTUVYZ"
_VIN_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def plate_text(city: int, code: str) -> str:
    return f"{city:02d}{code}"


def is_valid_plate_code(code: str) -> bool:
    return len(code) <= 6 and PLATE_CODE_RE.fullmatch(code) is not None


class PlateStatus(Enum):
    KNOWN = "known"
    UNKNOWN = "unknown"
    SERVICE_FAILURE = "service-failure"


def plate_status(city: int, code: str) -> PlateStatus:
    if (city, code) == FAILING_PLATE:
        return PlateStatus.SERVICE_FAILURE
    if code.endswith("000"):
        return PlateStatus.UNKNOWN
    return PlateStatus.KNOWN


@dataclass(frozen=True)
class VehicleFacts:
    city: int
    code: str
    model: ModelType
    year: int
    registration_date: str
    serial_code: str
    serial_number: str
    chassis: str
    engine: str

    @property
    def price(self) -> int:
        return self.model.market_value(self.year)

    def to_json(self, *, partial_model: bool = False, masked: bool = False) -> dict[str, object]:
        """`ExternalLookupVehicleResult`: `fuelType` bare, `chassis` / `engine` plain with
        `chassisIsMasked` / `engineIsMasked`. `partial_model`: `partialModel {brand, type}`
        (no year) instead of `model`; `masked`: chassis and engine masked (`W***8`)."""
        body: dict[str, object] = {
            "registrationDate": self.registration_date,
            "plate": {"city": self.city, "code": self.code},
            "documentSerial": {"code": self.serial_code, "number": self.serial_number},
        }
        if partial_model:
            body["partialModel"] = {
                "brand": self.model.brand.to_json(),
                "type": self.model.to_json(),
            }
        else:
            body["model"] = {
                "brand": self.model.brand.to_json(),
                "year": self.year,
                "type": self.model.to_json(),
            }
        return body | {
            "chassis": mask(self.chassis) if masked else self.chassis,
            "chassisIsMasked": masked,
            "engine": mask(self.engine) if masked else self.engine,
            "engineIsMasked": masked,
            "fuelType": self.model.fuel.value,
            "utilizationStyle": VehicleUtilizationStyle.PRIVATE_CAR.value,
            "seatNumber": self.model.seats,
            "price": self.price,
            "currency": Currency.TURKISH_LIRA.value,
            "kaskoOldPolicy": None,
            "trafikOldPolicy": None,
        }


def mask(value: str) -> str:
    """InsurUp's masking (`W***8`): the first and the last character around three stars."""
    return f"{value[0]}***{value[-1]}"


@dataclass(frozen=True)
class _Fixed:
    model_reference: str
    year: int
    registration_date: str
    serial: tuple[str, str]


_FIXED_PLATES = {
    (34, "ABC123"): _Fixed("052101", 2021, "2021-03-15", ("AB", "123456")),
    (35, "KLM789"): _Fixed("020301", 2019, "2019-06-20", ("KL", "654321")),
    (6, "ABC123"): _Fixed("061201", 2022, "2022-09-01", ("A", "1234567")),
}


def _digest(city: int, code: str) -> bytes:
    return hashlib.sha256(f"tramer:{plate_text(city, code)}".encode()).digest()


def _number(seed: bytes, offset: int, modulo: int) -> int:
    return int.from_bytes(seed[offset : offset + 4], "big") % modulo


def _chassis(model: ModelType, seed: bytes) -> str:
    tail = "".join(_VIN_CHARACTERS[b % len(_VIN_CHARACTERS)] for b in seed[16:24])
    return f"{model.wmi}{tail}{_number(seed, 24, 1_000_000):06d}"


def vehicle_facts(city: int, code: str) -> VehicleFacts:
    """The facts of a KNOWN plate (see `plate_status`)."""
    seed = _digest(city, code)
    fixed = _FIXED_PLATES.get((city, code))
    if fixed is not None:
        model = model_by_reference(fixed.model_reference)
        assert model is not None
        year, registration_date, serial = fixed.year, fixed.registration_date, fixed.serial
    else:
        model = MODEL_TYPES[_number(seed, 0, len(MODEL_TYPES))]
        year = model.first_year + _number(seed, 4, model.last_year - model.first_year + 1)
        month, day = 1 + _number(seed, 8, 12), 1 + _number(seed, 12, 28)
        registration_date = f"{year:04d}-{month:02d}-{day:02d}"
        letters = _SERIAL_LETTERS[seed[28] % 21] + _SERIAL_LETTERS[seed[29] % 21]
        serial = (letters, f"{_number(seed, 20, 1_000_000):06d}")
    return VehicleFacts(
        city=city,
        code=code,
        model=model,
        year=year,
        registration_date=registration_date,
        serial_code=serial[0],
        serial_number=serial[1],
        chassis=_chassis(model, seed),
        engine=f"{model.engine_code}{_number(seed, 8, 10_000_000):07d}",
    )
