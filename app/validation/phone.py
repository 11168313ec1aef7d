"""Turkish mobile phone numbers.

Accepted input forms (with any spaces, dashes and parentheses): ``+905321234567``,
``00905321234567``, ``905321234567``, ``05321234567`` and ``5321234567``.  The canonical form
is ``"90" + 10 digits`` where the 10 digits start with ``5``.  Error messages are constants
and never contain the input: phone numbers are personal data.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, TypeAlias

import phonenumbers
from phonenumbers import PhoneNumberType
from pydantic import AfterValidator

__all__ = [
    "PHONE_ERROR_MESSAGE",
    "TrMobile",
    "mask_phone",
    "national_mobile_digits",
    "normalize_tr_mobile",
]

PHONE_ERROR_MESSAGE: Final = "is not a valid Turkish mobile phone number"

_MAX_INPUT_LENGTH: Final = 64
# An optional leading "+", then ASCII digits, whitespace, dashes and parentheses only.
# phonenumbers itself would accept letters (vanity numbers), extensions and more.
_ALLOWED_RE: Final = re.compile(r"\+?[0-9\s\-()]+")
_MOBILE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def normalize_tr_mobile(value: str) -> str:
    """Return ``"90" + 10 digits`` for a valid Turkish mobile number, else raise ``ValueError``.

    Landlines, pagers, other countries, letters, extensions and wrong lengths are refused.
    """
    checked: object = value  # the pydantic alias may pass anything at run time
    if not isinstance(checked, str) or len(checked) > _MAX_INPUT_LENGTH:
        raise ValueError(PHONE_ERROR_MESSAGE)
    text = checked.strip()
    if not _ALLOWED_RE.fullmatch(text):
        raise ValueError(PHONE_ERROR_MESSAGE)
    try:
        number = phonenumbers.parse(text, "TR")
    except phonenumbers.NumberParseException:
        raise ValueError(PHONE_ERROR_MESSAGE) from None
    national = str(number.national_number)
    if (
        number.country_code != 90
        or number.extension
        or number.italian_leading_zero
        or len(national) != 10
        or not national.startswith("5")
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise ValueError(PHONE_ERROR_MESSAGE)
    return "90" + national


def national_mobile_digits(normalized: str) -> str:
    """Return the 10 national digits (``5XXXXXXXXX``) of a Turkish mobile number.

    The input is re-validated, so any accepted form works, not only the ``90...`` form.
    """
    return normalize_tr_mobile(normalized)[2:]


def mask_phone(value: str) -> str:
    """Mask a phone number for logs: keep the first 2 and last 2 digits.

    ``mask_phone("905321234567") == "90********67"``.  Only the digits of ``value`` are kept;
    with 8 digits or fewer everything is masked.
    """
    digits = "".join(ch for ch in str(value) if "0" <= ch <= "9")
    if len(digits) <= 8:
        return "*" * len(digits)
    return digits[:2] + "*" * (len(digits) - 4) + digits[-2:]


TrMobile: TypeAlias = Annotated[str, AfterValidator(normalize_tr_mobile)]
