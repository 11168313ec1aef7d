"""Plates and registration serials: every accepted form has one canonical value."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.validation import (
    DocumentSerial,
    normalize_plate,
    normalize_serial,
    parse_plate,
    parse_serial,
)
from app.validation.vehicle import PLATE_ERROR_MESSAGE, SERIAL_ERROR_MESSAGE

LETTERS = st.text(alphabet="ABCDEFGHJKLMNOPRSTUVYZ", min_size=1, max_size=3)


@st.composite
def plates(draw: st.DrawFn) -> tuple[int, str, str]:
    province = draw(st.integers(min_value=1, max_value=81))
    letters = draw(LETTERS)
    low, high = {1: (4, 5), 2: (3, 4), 3: (2, 3)}[len(letters)]
    digits = draw(st.text(alphabet="0123456789", min_size=low, max_size=high))
    return province, letters, digits


def _spellings(province: int, letters: str, digits: str) -> list[str]:
    p = f"{province:02d}"
    return [
        f"{p}{letters}{digits}",
        f"{p} {letters} {digits}",
        f"{p}-{letters}-{digits}",
        f" {p} {letters.lower()} {digits} ",
        f"{p}{letters.lower()}{digits}",
    ]


@given(plates())
def test_every_plate_spelling_normalises_to_one_value(parts: tuple[int, str, str]) -> None:
    province, letters, digits = parts
    canonical = f"{province:02d}{letters}{digits}"
    assert {normalize_plate(s) for s in _spellings(*parts)} == {canonical}
    assert parse_plate(canonical).code == letters + digits


@given(st.text(max_size=20))
def test_garbage_plates_are_refused_or_canonical(text: str) -> None:
    try:
        value = normalize_plate(text)
    except ValueError as exc:
        message = str(exc)
        value = None
    if value is None:
        assert message == PLATE_ERROR_MESSAGE
    else:
        assert normalize_plate(value) == value  # accepted means canonical and stable


@pytest.mark.parametrize(
    "bad",
    [
        "00ABC123",
        "82ABC123",
        "34ABCD12",
        "34A123",
        "34AB12",
        "34ABC1",
        "34ABC1234",
        "ABC123",
        "34ÇAB123",
        "",
        34,
    ],
)
def test_invalid_plates_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="valid Turkish plate"):
        normalize_plate(bad)


def test_turkish_dotless_and_dotted_i_become_ascii_i() -> None:
    assert normalize_plate("34 ıı 123") == "34II123"
    assert normalize_plate("06 İK 1234") == "06IK1234"


@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_every_serial_form_normalises_to_one_value(code: str, number: str) -> None:
    forms: list[object] = [
        f"{code}{number}",
        f"{code} {number}",
        f"{code.lower()}-{number}",
        {"code": code, "number": number},
        {"code": code.lower(), "number": f" {number}"},
    ]
    assert {normalize_serial(f) for f in forms} == {code + number}
    assert parse_serial(code + number).number == number


@pytest.mark.parametrize(
    ("given", "code", "number"),
    [
        ("A/1234567", "A", "1234567"),  # InsurUp's own test serial
        ("a 1234567", "A", "1234567"),
        ({"code": "A", "number": "1234567"}, "A", "1234567"),
        ("AB/123456", "AB", "123456"),
    ],
)
def test_older_one_letter_serials_and_insurups_test_serial_are_accepted(
    given: object, code: str, number: str
) -> None:
    assert parse_serial(given) == DocumentSerial(code=code, number=number)


@pytest.mark.parametrize(
    "bad",
    [
        "1234567A",
        "ABC12345",
        "A123456",
        "AB12345",
        "AB1234567",
        "12345678",
        {"code": "AB"},
        {"code": 1, "number": "1"},
        None,
    ],
)
def test_invalid_serials_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="registration document serial") as caught:
        normalize_serial(bad)
    assert str(caught.value) == SERIAL_ERROR_MESSAGE
