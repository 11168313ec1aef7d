"""Pure validators for customer input (no FastAPI imports)."""

from app.validation.dates import BirthDate, validate_birth_date
from app.validation.identity import (
    mask_identity,
    normalize_foreign_id,
    normalize_tckn,
    normalize_vkn,
)
from app.validation.phone import TrMobile, mask_phone, national_mobile_digits, normalize_tr_mobile
from app.validation.vehicle import (
    DocumentSerial,
    Plate,
    PlateText,
    SerialText,
    normalize_plate,
    normalize_serial,
    parse_plate,
    parse_serial,
)

__all__ = [
    "BirthDate",
    "DocumentSerial",
    "Plate",
    "PlateText",
    "SerialText",
    "TrMobile",
    "mask_identity",
    "mask_phone",
    "national_mobile_digits",
    "normalize_foreign_id",
    "normalize_plate",
    "normalize_serial",
    "normalize_tckn",
    "normalize_tr_mobile",
    "normalize_vkn",
    "parse_plate",
    "parse_serial",
    "validate_birth_date",
]
