"""Turkish identity numbers: T.C. Kimlik No (TCKN), tax number (VKN), foreign id.

Every ``normalize_*`` function returns the canonical string or raises ``ValueError`` with a
short, customer-facing message.  The messages are constants and never contain the input:
identity numbers are personal data.
"""

from __future__ import annotations

import re
from typing import Final

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.tr import tckimlik, vkn

__all__ = [
    "FOREIGN_ID_ERROR_MESSAGE",
    "TCKN_ERROR_MESSAGE",
    "VKN_ERROR_MESSAGE",
    "mask_identity",
    "normalize_foreign_id",
    "normalize_tckn",
    "normalize_vkn",
]

TCKN_ERROR_MESSAGE: Final = "is not a valid Turkish ID number (T.C. Kimlik No)"
VKN_ERROR_MESSAGE: Final = "is not a valid Turkish tax number (VKN)"
FOREIGN_ID_ERROR_MESSAGE: Final = (
    "is not a valid passport or foreign ID number (letters and digits only)"
)

# Anything longer than this is rejected before any parsing work is done.
_MAX_INPUT_LENGTH: Final = 64

_TCKN_RE: Final = re.compile(r"[1-9][0-9]{10}")
_VKN_RE: Final = re.compile(r"[0-9]{10}")
_FOREIGN_ID_RE: Final = re.compile(r"[A-Za-z0-9]{5,20}")
_WHITESPACE_RE: Final = re.compile(r"\s+")


def _as_text(value: object, message: str) -> str:
    """Accept ``str`` or ``int`` (JSON numbers); refuse everything else, including ``bool``."""
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) <= _MAX_INPUT_LENGTH:
        return value
    raise ValueError(message)


def normalize_tckn(value: str | int) -> str:
    """Return the 11-digit T.C. Kimlik No, surrounding whitespace removed.

    The number must be 11 ASCII digits, not start with 0, and carry valid check digits.
    """
    text = _as_text(value, TCKN_ERROR_MESSAGE).strip()
    # The regex also refuses inner separators and non-ASCII digits before stdnum sees them.
    if not _TCKN_RE.fullmatch(text):
        raise ValueError(TCKN_ERROR_MESSAGE)
    try:
        return str(tckimlik.validate(text))
    except StdnumValidationError:
        raise ValueError(TCKN_ERROR_MESSAGE) from None


def normalize_vkn(value: str | int) -> str:
    """Return the 10-digit Turkish tax number (VKN), surrounding whitespace removed.

    An ``int`` loses leading zeros, so such a VKN must be sent as a string.
    """
    text = _as_text(value, VKN_ERROR_MESSAGE).strip()
    if not _VKN_RE.fullmatch(text):
        raise ValueError(VKN_ERROR_MESSAGE)
    try:
        return str(vkn.validate(text))
    except StdnumValidationError:
        raise ValueError(VKN_ERROR_MESSAGE) from None


def normalize_foreign_id(value: str | int) -> str:
    """Return a foreign id / passport number: 5-20 ASCII letters and digits, uppercased.

    All whitespace (inside and around) is removed first.
    """
    text = _WHITESPACE_RE.sub("", _as_text(value, FOREIGN_ID_ERROR_MESSAGE))
    if not _FOREIGN_ID_RE.fullmatch(text):
        raise ValueError(FOREIGN_ID_ERROR_MESSAGE)
    return text.upper()


def mask_identity(value: str) -> str:
    """Mask an identity number for logs, keeping only the last 2 characters.

    ``mask_identity("11111111110") == "*********10"``.  Values of 4 characters or fewer are
    masked completely, so that a short value is never revealed whole.
    """
    text = str(value).strip()
    if len(text) <= 4:
        return "*" * len(text)
    return "*" * (len(text) - 2) + text[-2:]
