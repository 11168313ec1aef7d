from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.validation import BirthDate, validate_birth_date
from app.validation.dates import (
    BIRTH_DATE_ERROR_MESSAGE,
    BIRTH_DATE_FORMAT_ERROR_MESSAGE,
    EARLIEST_BIRTH_DATE,
)

TODAY = date(2024, 6, 15)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 6, 14), date(2024, 6, 14)),  # yesterday
        (date(1990, 5, 1), date(1990, 5, 1)),
        (date(2020, 2, 29), date(2020, 2, 29)),
        (date(1900, 1, 1), date(1900, 1, 1)),  # earliest accepted
        (datetime(1990, 5, 1, 12, 30), date(1990, 5, 1)),  # reduced to its date
        (date(2010, 1, 1), date(2010, 1, 1)),  # no minimum age here
    ],
)
def test_accepted(value: date, expected: date) -> None:
    result = validate_birth_date(value, today=TODAY)
    assert result == expected
    assert type(result) is date


@pytest.mark.parametrize(
    "value",
    [
        TODAY,
        date(2024, 6, 16),  # tomorrow
        date(2100, 1, 1),
        date.max,
        date(1899, 12, 31),
        date.min,
        datetime(2024, 6, 15, 0, 0),  # today, as a datetime
    ],
)
def test_refused(value: date) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid date of birth$"):
        validate_birth_date(value, today=TODAY)


@pytest.mark.parametrize("value", [None, "1990-05-01", 946684800, True])
def test_refuses_other_types_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid date of birth$"):
        validate_birth_date(value, today=TODAY)  # type: ignore[arg-type]


def test_default_today() -> None:
    # Two days of margin: "today" is taken in Turkish time, the test machine may differ.
    assert validate_birth_date(date.today() - timedelta(days=2)) == date.today() - timedelta(days=2)
    with pytest.raises(ValueError, match=r"^is not a valid date of birth$"):
        validate_birth_date(date.today() + timedelta(days=2))


@given(st.dates(min_value=EARLIEST_BIRTH_DATE, max_value=TODAY - timedelta(days=1)))
def test_any_past_date_since_1900_is_accepted(value: date) -> None:
    assert validate_birth_date(value, today=TODAY) == value


@given(st.one_of(st.dates(min_value=TODAY), st.dates(max_value=date(1899, 12, 31))))
def test_any_other_date_is_refused(value: date) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid date of birth$"):
        validate_birth_date(value, today=TODAY)


def test_messages_contain_no_digits() -> None:
    for message in (BIRTH_DATE_ERROR_MESSAGE, BIRTH_DATE_FORMAT_ERROR_MESSAGE):
        assert not any(ch.isdigit() for ch in message)


# --- pydantic alias -----------------------------------------------------------------------


class BirthModel(BaseModel):
    birth_date: BirthDate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1990-05-01", date(1990, 5, 1)),
        ("2000-02-29", date(2000, 2, 29)),
        ("1900-01-01", date(1900, 1, 1)),
        (date(1990, 5, 1), date(1990, 5, 1)),
    ],
)
def test_alias_accepts(value: object, expected: date) -> None:
    assert BirthModel.model_validate({"birth_date": value}).birth_date == expected


def test_alias_accepts_json() -> None:
    model = BirthModel.model_validate_json('{"birth_date": "1990-05-01"}')
    assert model.birth_date == date(1990, 5, 1)


@pytest.mark.parametrize(
    "value", ["2023-02-30", "2023-02-29", "1900-02-29", "2023-13-01", "2023-00-10", "2023-04-31"]
)
def test_alias_refuses_impossible_dates(value: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        BirthModel.model_validate({"birth_date": value})
    (error,) = exc_info.value.errors()
    assert error["type"] == "date_from_datetime_parsing"
    assert value not in error["msg"]


@pytest.mark.parametrize(
    "value",
    [
        "1990-5-1",
        "01.05.1990",
        "01/05/1990",
        "19900501",
        "1990-05-01T00:00:00",  # pydantic would accept a midnight datetime
        " 1990-05-01",
        "946684800",  # pydantic would read a Unix timestamp
        946684800,
        946684800.0,
        True,
        None,
        "",
        "\u0661\u0669\u0669\u0660-\u0660\u0665-\u0660\u0661",  # Arabic-Indic
    ],
)
def test_alias_refuses_other_formats(value: object) -> None:
    with pytest.raises(ValidationError) as exc_info:
        BirthModel.model_validate({"birth_date": value})
    (error,) = exc_info.value.errors()
    assert error["type"] == "value_error"
    assert str(error["ctx"]["error"]) == BIRTH_DATE_FORMAT_ERROR_MESSAGE


@pytest.mark.parametrize("value", ["1899-12-31", "1000-01-01", "2999-01-01", "9999-12-31"])
def test_alias_refuses_out_of_range(value: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        BirthModel.model_validate({"birth_date": value})
    (error,) = exc_info.value.errors()
    assert error["type"] == "value_error"
    assert str(error["ctx"]["error"]) == BIRTH_DATE_ERROR_MESSAGE
    assert value not in error["msg"]


def test_alias_refuses_today_and_future_dates() -> None:
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    with pytest.raises(ValidationError):
        BirthModel.model_validate({"birth_date": tomorrow})
