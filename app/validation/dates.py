"""Date of birth validation.

Only plausibility is checked (a real date, in the past, not before 1900); minimum ages are
the insurers' decision.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Final, TypeAlias

from pydantic import AfterValidator, BeforeValidator

__all__ = [
    "BIRTH_DATE_ERROR_MESSAGE",
    "BIRTH_DATE_FORMAT_ERROR_MESSAGE",
    "EARLIEST_BIRTH_DATE",
    "BirthDate",
    "validate_birth_date",
]

BIRTH_DATE_ERROR_MESSAGE: Final = "is not a valid date of birth"
BIRTH_DATE_FORMAT_ERROR_MESSAGE: Final = "must be a date as YYYY-MM-DD"
EARLIEST_BIRTH_DATE: Final = date(1900, 1, 1)

# Turkey has been on UTC+3 all year round since 2016.
_TURKEY_TZ: Final = timezone(timedelta(hours=3), "TRT")
_ISO_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def today_in_turkey() -> date:
    return datetime.now(_TURKEY_TZ).date()


def validate_birth_date(value: date, *, today: date | None = None) -> date:
    """Return ``value`` if it is a date strictly before ``today`` and not before 1900-01-01.

    ``today`` defaults to the current date in Turkey.  A ``datetime`` is reduced to its date.
    """
    checked: object = value  # the pydantic alias may pass anything at run time
    if isinstance(checked, datetime):
        checked = checked.date()
    if not isinstance(checked, date):
        raise ValueError(BIRTH_DATE_ERROR_MESSAGE)
    if today is None:
        today = today_in_turkey()
    if not EARLIEST_BIRTH_DATE <= checked < today:
        raise ValueError(BIRTH_DATE_ERROR_MESSAGE)
    return checked


def _require_iso_date(value: object) -> object:
    """Only let ``YYYY-MM-DD`` strings and ``date`` objects reach pydantic's date parser.

    Without this, pydantic would also accept numbers and numeric strings as Unix timestamps
    (``946684800`` -> 2000-01-01) and ``YYYY-MM-DDT00:00:00`` datetimes.
    """
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DATE_RE.fullmatch(value):
        return value
    raise ValueError(BIRTH_DATE_FORMAT_ERROR_MESSAGE)


def _validate_birth_date_field(value: date) -> date:
    return validate_birth_date(value)


# Pydantic parses the string (refusing impossible dates such as 2023-02-30), then the range
# check runs.
BirthDate: TypeAlias = Annotated[
    date, BeforeValidator(_require_iso_date), AfterValidator(_validate_birth_date_field)
]
