from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.validation import (
    mask_identity,
    normalize_foreign_id,
    normalize_tckn,
    normalize_vkn,
)
from app.validation.identity import (
    FOREIGN_ID_ERROR_MESSAGE,
    TCKN_ERROR_MESSAGE,
    VKN_ERROR_MESSAGE,
)

ALL_MESSAGES = (TCKN_ERROR_MESSAGE, VKN_ERROR_MESSAGE, FOREIGN_ID_ERROR_MESSAGE)


def error_message_of(normalize: Callable[[str], str], value: str) -> str | None:
    try:
        normalize(value)
    except ValueError as exc:
        return str(exc)
    return None


def tckn_check_digits(first_nine: str) -> str:
    """Published algorithm, written independently of python-stdnum.

    d10 = ((d1 + d3 + d5 + d7 + d9) * 7 - (d2 + d4 + d6 + d8)) mod 10
    d11 = (d1 + d2 + ... + d10) mod 10
    """
    d = [int(c) for c in first_nine]
    assert len(d) == 9
    d10 = ((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10
    d11 = (sum(d) + d10) % 10
    return f"{d10}{d11}"


valid_tckns = st.builds(
    lambda first, rest: first + rest + tckn_check_digits(first + rest),
    st.sampled_from("123456789"),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


# --- TCKN ---------------------------------------------------------------------------------


def test_check_digit_helper_matches_known_numbers() -> None:
    for number in ("11111111110", "10000000146", "17291716060", "99999999990"):
        assert tckn_check_digits(number[:9]) == number[9:]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11111111110", "11111111110"),
        ("10000000146", "10000000146"),
        ("17291716060", "17291716060"),
        ("99999999990", "99999999990"),
        ("  11111111110  ", "11111111110"),
        ("\t11111111110\n", "11111111110"),
        (11111111110, "11111111110"),
        (17291716060, "17291716060"),
    ],
)
def test_tckn_accepted(value: str | int, expected: str) -> None:
    assert normalize_tckn(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "11111111111",  # wrong check digits
        "11111111100",  # wrong check digits
        "17291716050",  # wrong check digits
        "1111111111",  # 10 digits
        "111111111100",  # 12 digits
        "01234567840",  # check digits fine, but leading zero
        "00000000000",
        "1111111111a",
        "111 111 111 10",  # inner separators are not accepted
        "111-111-111-10",
        "+11111111110",
        "\u0661" * 10 + "\u0660",  # Arabic-Indic digits
        "\uff11" * 10 + "\uff10",  # full-width digits
        "1" * 1000,
        -11111111110,
        1111111111,
    ],
)
def test_tckn_refused(value: str | int) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish ID number") as exc_info:
        normalize_tckn(value)
    assert str(exc_info.value) == TCKN_ERROR_MESSAGE


@pytest.mark.parametrize("value", [None, True, False, 11111111110.0, b"11111111110", ["1"]])
def test_tckn_refuses_other_types_with_value_error(value: object) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish ID number"):
        normalize_tckn(value)  # type: ignore[arg-type]


@given(valid_tckns)
def test_every_generated_tckn_is_accepted(number: str) -> None:
    assert normalize_tckn(number) == number
    assert normalize_tckn(f" {number} ") == number
    assert normalize_tckn(int(number)) == number


@given(valid_tckns, st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=9))
def test_changing_any_single_digit_is_refused(number: str, position: int, shift: int) -> None:
    new_digit = str((int(number[position]) + shift) % 10)
    mutated = number[:position] + new_digit + number[position + 1 :]
    assert mutated != number
    with pytest.raises(ValueError, match=r"^is not a valid Turkish ID number") as exc_info:
        normalize_tckn(mutated)
    assert mutated not in str(exc_info.value)


# --- VKN ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("4540536920", "4540536920"),
        ("1234567890", "1234567890"),
        ("0123456789", "0123456789"),
        ("9876543217", "9876543217"),
        (" 4540536920 ", "4540536920"),
        (4540536920, "4540536920"),
    ],
)
def test_vkn_accepted(value: str | int, expected: str) -> None:
    assert normalize_vkn(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "4540536921",  # wrong check digit
        "454053692",
        "45405369200",
        "454 053 6920",
        "454053692a",
        "١٢٣٤٥٦٧٨٩٠",
        123456789,  # 0123456789 as a number: leading zero lost
        "11111111110",  # a TCKN is not a VKN
    ],
)
def test_vkn_refused(value: str | int) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid Turkish tax number") as exc_info:
        normalize_vkn(value)
    assert str(exc_info.value) == VKN_ERROR_MESSAGE


# --- foreign id ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("U12345678", "U12345678"),
        ("ab12345", "AB12345"),
        (" u 1234 5678 ", "U12345678"),
        ("A1234", "A1234"),  # 5 characters
        ("A" * 20, "A" * 20),  # 20 characters
        ("12345", "12345"),
        (99123456789, "99123456789"),
        ("c01x 00t4\t7", "C01X00T47"),
    ],
)
def test_foreign_id_accepted(value: str | int, expected: str) -> None:
    assert normalize_foreign_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "    ",
        "A123",  # 4 characters
        "A" * 21,  # 21 characters
        "AB-12345",
        "AB/12345",
        "ÄB12345",
        "ab12\u0131345",  # Turkish dotless i
        "AB12345!",
        "\uff11\uff12\uff13\uff14\uff15",  # full-width digits
        1234,
    ],
)
def test_foreign_id_refused(value: str | int) -> None:
    with pytest.raises(ValueError, match=r"^is not a valid passport") as exc_info:
        normalize_foreign_id(value)
    assert str(exc_info.value) == FOREIGN_ID_ERROR_MESSAGE


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11111111110", "*********10"),
        ("4540536920", "********20"),
        ("U12345678", "*******78"),
        ("12345", "***45"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_mask_identity(value: str, expected: str) -> None:
    assert mask_identity(value) == expected


@given(valid_tckns)
def test_mask_identity_hides_all_but_last_two(number: str) -> None:
    masked = mask_identity(number)
    assert masked == "*" * 9 + number[-2:]


# --- error messages never echo the input --------------------------------------------------


def test_messages_contain_no_digits() -> None:
    # So that no input containing a digit can ever appear inside a message.
    for message in ALL_MESSAGES:
        assert not any(ch.isdigit() for ch in message)


@given(st.text(max_size=40).filter(lambda s: any(ch.isdigit() for ch in s)))
def test_error_messages_never_contain_the_input(value: str) -> None:
    for normalize, message in (
        (normalize_tckn, TCKN_ERROR_MESSAGE),
        (normalize_vkn, VKN_ERROR_MESSAGE),
        (normalize_foreign_id, FOREIGN_ID_ERROR_MESSAGE),
    ):
        error = error_message_of(normalize, value)
        if error is not None:
            assert error == message
            assert value not in error
            assert value.strip() not in error
