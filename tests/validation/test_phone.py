from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from app.validation import TrMobile, mask_phone, national_mobile_digits, normalize_tr_mobile
from app.validation.phone import PHONE_ERROR_MESSAGE

# Prefixes of the Turkish GSM operators (Türk Telekom 50x, Turkcell 53x, Vodafone 54x, 55x).
MOBILE_PREFIXES = (
    ["501", "505", "506", "507"]
    + [f"53{i}" for i in range(10)]
    + [f"54{i}" for i in range(10)]
    + [f"55{i}" for i in range(10)]
)


@pytest.mark.parametrize(
    "value",
    [
        "+905321234567",
        "905321234567",
        "05321234567",
        "5321234567",
        "00905321234567",
        "+90 532 123 45 67",
        "+90 (532) 123-45-67",
        "+90-532-123-45-67",
        "0 (532) 123 45 67",
        "(0532) 123 45 67",
        "0532-123-45-67",
        "0090 532 123 45 67",
        "90 532 1234567",
        "532 123 4567",
        "  05321234567  ",
        "\t+90 532 123 45 67\n",
    ],
)
def test_accepted_forms(value: str) -> None:
    assert normalize_tr_mobile(value) == "905321234567"


@pytest.mark.parametrize("prefix", ["532", "505", "542", "555", "501", "530", "549", "559"])
def test_operator_prefixes_are_mobile(prefix: str) -> None:
    assert normalize_tr_mobile(f"0{prefix} 123 45 67") == f"90{prefix}1234567"
    assert normalize_tr_mobile(f"+90{prefix}1234567") == f"90{prefix}1234567"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "+",
        "0",
        "02121234567",  # Istanbul landline
        "0212 123 45 67",
        "+90 212 123 45 67",
        "0312 123 45 67",  # Ankara landline
        "0850 123 45 67",  # non-geographic
        "0444 1 444",
        "0512 123 45 67",  # pager range
        "0592 123 45 67",  # not a mobile range
        "+15551234567",  # United States
        "+1 532 123 4567",
        "+44 7911 123456",  # UK mobile
        "+49 1512 3456789",  # German mobile
        "0044 7911 123456",
        "0532ABC4567",  # letters (phonenumbers would read them as a vanity number)
        "0532 123 45 6a",
        "O5321234567",  # letter O instead of zero
        "05321234567 ext 5",
        "05321234567;ext=1",
        "05321234567#",
        "05321234567*",
        "0532 123 45 6",  # too short
        "532123456",
        "053212345678",  # too long
        "+90 532 123 45 67 8",
        "++905321234567",
        "90+5321234567",
        "\u0660\u0665\u0663\u0662\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic
        "".join(chr(0xFF10 + int(d)) for d in "05321234567"),  # full-width digits
        "0" * 1000,
        "1" * 200,
    ],
)
def test_refused_forms(value: str) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish mobile") as exc_info:
        normalize_tr_mobile(value)
    assert str(exc_info.value) == PHONE_ERROR_MESSAGE


@pytest.mark.parametrize("value", [None, 5321234567, 905321234567, b"05321234567", True])
def test_refuses_other_types_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish mobile"):
        normalize_tr_mobile(value)  # type: ignore[arg-type]


def assert_safe_error(error: str, value: str) -> None:
    assert error == PHONE_ERROR_MESSAGE
    assert value not in error
    assert value.strip() not in error


def _spaced(d: str) -> str:
    return f"{d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"


FORMS: list[Callable[[str], str]] = [
    lambda d: f"+90{d}",
    lambda d: f"90{d}",
    lambda d: f"0{d}",
    lambda d: d,
    lambda d: f"0090{d}",
    lambda d: f"+90 {_spaced(d)}",
    lambda d: f"+90 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}",
    lambda d: f"0 ({d[:3]}) {d[3:6]} {d[6:8]} {d[8:]}",
    lambda d: f"0{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:]}",
    lambda d: f"0090 {_spaced(d)}",
    lambda d: f"  0{_spaced(d)}  ",
]

mobile_national_numbers = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(MOBILE_PREFIXES),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
)


@given(mobile_national_numbers)
def test_every_form_of_a_mobile_normalises_to_the_same_value(national: str) -> None:
    results = {normalize_tr_mobile(form(national)) for form in FORMS}
    assert results == {"90" + national}
    assert national_mobile_digits("90" + national) == national


@given(
    st.text(alphabet="0123456789 +-()", min_size=1, max_size=30).filter(
        lambda s: any(ch.isdigit() for ch in s)
    )
)
def test_random_digit_strings_never_echoed(value: str) -> None:
    try:
        result = normalize_tr_mobile(value)
    except ValueError as exc:
        error = str(exc)
        assert_safe_error(error, value)
    else:
        assert len(result) == 12
        assert result.startswith("905")


@given(st.text(max_size=40).filter(lambda s: any(ch.isdigit() for ch in s)))
def test_error_message_never_contains_the_input(value: str) -> None:
    try:
        normalize_tr_mobile(value)
    except ValueError as exc:
        error = str(exc)
        assert_safe_error(error, value)


def test_message_contains_no_digits() -> None:
    assert not any(ch.isdigit() for ch in PHONE_ERROR_MESSAGE)


# --- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["905321234567", "+90 532 123 45 67", "05321234567", "5321234567"]
)
def test_national_mobile_digits(value: str) -> None:
    assert national_mobile_digits(value) == "5321234567"


@pytest.mark.parametrize("value", ["", "902121234567", "90532123456", "abc"])
def test_national_mobile_digits_refuses_invalid(value: str) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish mobile"):
        national_mobile_digits(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("905321234567", "90********67"),
        ("+90 532 123 45 67", "90********67"),
        ("5321234567", "53******67"),
        ("12345678", "********"),
        ("", ""),
    ],
)
def test_mask_phone(value: str, expected: str) -> None:
    assert mask_phone(value) == expected


@given(mobile_national_numbers)
def test_mask_phone_hides_subscriber_digits(national: str) -> None:
    masked = mask_phone(normalize_tr_mobile("0" + national))
    assert masked == "90" + "*" * 8 + national[-2:]


# --- pydantic alias -----------------------------------------------------------------------


class PhoneModel(BaseModel):
    phone: TrMobile


def test_alias_normalises() -> None:
    assert PhoneModel(phone="0532 123 45 67").phone == "905321234567"
    assert PhoneModel.model_validate_json('{"phone": "+90 (532) 123-45-67"}').phone == (
        "905321234567"
    )


@pytest.mark.parametrize("value", ["0212 123 45 67", "+44 7911 123456", "0532ABC4567"])
def test_alias_field_error_does_not_echo_input(value: str) -> None:
    with pytest.raises(ValidationError) as exc_info:
        PhoneModel(phone=value)
    (error,) = exc_info.value.errors()
    assert error["loc"] == ("phone",)
    assert error["type"] == "value_error"
    assert str(error["ctx"]["error"]) == PHONE_ERROR_MESSAGE
    assert value not in error["msg"]


def test_alias_refuses_json_number() -> None:
    with pytest.raises(ValidationError) as exc_info:
        PhoneModel.model_validate_json('{"phone": 5321234567}')
    assert exc_info.value.errors()[0]["type"] == "string_type"
