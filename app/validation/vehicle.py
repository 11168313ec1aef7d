"""Turkish number plates and registration-document serials.

A plate is a province code 01-81, then 1-3 letters, then digits: one letter with 4-5 digits,
two letters with 3-4 digits, three letters with 2-3 digits (`34 A 1234`, `06 AB 123`,
`34 ABC 123`). Customers type spaces, dashes and lower case (Turkish `i`/`ı` too); all of
that normalises to one canonical value such as `34ABC123`.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Final, TypeAlias

from pydantic import BeforeValidator

PLATE_ERROR_MESSAGE: Final = (
    "is not a valid Turkish plate: province 01-81, letters, then digits (34 ABC 123)"
)
SERIAL_ERROR_MESSAGE: Final = (
    "must be the registration document serial: 2 letters and 6 digits (AB 123456), "
    "or 1 letter and 7 digits (A 1234567)"
)

_MAX_INPUT_LENGTH: Final = 32
_SEPARATORS: Final = re.compile(r"[\s\-./]+")
_PLATE: Final = re.compile(r"(0[1-9]|[1-7][0-9]|8[01])([A-Z]{1,3})([0-9]{2,5})")
_DIGITS_FOR_LETTERS: Final = {1: (4, 5), 2: (3, 4), 3: (2, 3)}
# Today's documents: 2 letters, 6 digits (`AB 123456`); older ones and InsurUp's test serial
# (`A/1234567`): 1 letter, 7 digits.
_SERIAL: Final = re.compile(r"([A-Z]{2})([0-9]{6})|([A-Z])([0-9]{7})")
# Turkish keyboards produce these for the letter I; plates only use ASCII capitals.
_TURKISH_I: Final = str.maketrans({"i": "I", "ı": "I", "İ": "I"})


@dataclass(frozen=True, slots=True)
class Plate:
    province: int
    code: str

    def __str__(self) -> str:
        return f"{self.province:02d}{self.code}"


@dataclass(frozen=True, slots=True)
class DocumentSerial:
    code: str
    number: str

    def __str__(self) -> str:
        return f"{self.code}{self.number}"


def _clean(value: object, message: str) -> str:
    if not isinstance(value, str) or len(value) > _MAX_INPUT_LENGTH:
        raise ValueError(message)
    text = _SEPARATORS.sub("", value.translate(_TURKISH_I)).upper()
    if not text.isascii():
        raise ValueError(message)
    return text


def parse_plate(value: object) -> Plate:
    text = _clean(value, PLATE_ERROR_MESSAGE)
    match = _PLATE.fullmatch(text)
    if match is None:
        raise ValueError(PLATE_ERROR_MESSAGE)
    province, letters, digits = match.groups()
    low, high = _DIGITS_FOR_LETTERS[len(letters)]
    if not low <= len(digits) <= high:
        raise ValueError(PLATE_ERROR_MESSAGE)
    return Plate(province=int(province), code=letters + digits)


def normalize_plate(value: object) -> str:
    return str(parse_plate(value))


def parse_serial(value: object) -> DocumentSerial:
    """`AB123456`, `AB 123456`, `A/1234567`, or `{"code": "AB", "number": "123456"}`."""
    if isinstance(value, dict):
        code, number = value.get("code"), value.get("number")
        if not isinstance(code, str) or not isinstance(number, str):
            raise ValueError(SERIAL_ERROR_MESSAGE)
        value = code + number
    text = _clean(value, SERIAL_ERROR_MESSAGE)
    match = _SERIAL.fullmatch(text)
    if match is None:
        raise ValueError(SERIAL_ERROR_MESSAGE)
    code, number = match.group(1, 2) if match.group(1) else match.group(3, 4)
    return DocumentSerial(code=code, number=number)


def normalize_serial(value: object) -> str:
    return str(parse_serial(value))


PlateText: TypeAlias = Annotated[str, BeforeValidator(normalize_plate)]
SerialText: TypeAlias = Annotated[str, BeforeValidator(normalize_serial)]
