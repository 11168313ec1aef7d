"""Identifier shapes and deterministic fake personal data."""

import hashlib
import re
import uuid

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")

_CUSTOMER_NAMESPACE = uuid.UUID("6f1c2a4e-8b1d-4c57-9a53-1e5b2f7c9d10")


def is_guid(value: str) -> bool:
    return GUID_RE.fullmatch(value) is not None


def customer_id_for(kind: str, number: str) -> str:
    """Stable customer GUID per identity (same across processes)."""
    return str(uuid.uuid5(_CUSTOMER_NAMESPACE, f"{kind}:{number}"))


def is_valid_tckn(number: str) -> bool:
    """Turkish identity number (TCKN): 11 digits, no leading 0, two check digits."""
    if len(number) != 11 or not number.isdigit() or number[0] == "0":
        return False
    d = [int(c) for c in number]
    odd = d[0] + d[2] + d[4] + d[6] + d[8]
    even = d[1] + d[3] + d[5] + d[7]
    return (odd * 7 - even) % 10 == d[9] and sum(d[:10]) % 10 == d[10]


def is_valid_vkn(number: str) -> bool:
    """Turkish tax number (VKN): 10 digits with a check digit."""
    if len(number) != 10 or not number.isdigit():
        return False
    total = 0
    for i, char in enumerate(number[:9]):
        shifted = (int(char) + 9 - i) % 10
        weighted = (shifted * 2 ** (9 - i)) % 9
        if shifted != 0 and weighted == 0:
            weighted = 9
        total += weighted
    return (10 - total % 10) % 10 == int(number[9])


_FIRST_NAMES = (
    "Ayşe", "Mehmet", "Fatma", "Mustafa", "Emine", "Ahmet", "Hatice", "Ali", "Zeynep",
    "Hüseyin", "Elif", "Hasan", "Merve", "İbrahim", "Özlem", "Murat", "Şule", "Emre",
    "Gülşen", "Burak", "Çağla", "Oğuz", "Selin", "Kerem",
)  # fmt: skip
_SURNAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
    "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt",
    "Özkan", "Şimşek", "Polat", "Korkmaz", "Güneş", "Erdoğan",
)  # fmt: skip
_COMPANY_SUFFIXES = (
    "Lojistik Ltd. Şti.", "İnşaat A.Ş.", "Gıda San. ve Tic. Ltd. Şti.", "Tekstil A.Ş.",
    "Otomotiv Ltd. Şti.", "Yazılım A.Ş.",
)  # fmt: skip


def _pick(seed: bytes, offset: int, options: tuple[str, ...]) -> str:
    return options[int.from_bytes(seed[offset : offset + 4], "big") % len(options)]


def fake_full_name(number: str) -> str:
    """A deterministic Turkish-looking name derived from an identity number."""
    seed = hashlib.sha256(number.encode()).digest()
    return f"{_pick(seed, 0, _FIRST_NAMES)} {_pick(seed, 4, _SURNAMES)}"


def fake_company_title(tax_number: str) -> str:
    seed = hashlib.sha256(tax_number.encode()).digest()
    return f"{_pick(seed, 0, _SURNAMES)} {_pick(seed, 4, _COMPANY_SUFFIXES)}"
