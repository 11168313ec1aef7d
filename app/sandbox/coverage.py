"""Kasko coverage objects (reference 4.2, 4.3) and `coverage-choices:kasko` lists (4.1)."""

from typing import Any

from .catalogue import Insurer
from .enums import ProductType

JsonObject = dict[str, Any]


def _value(kind: str, value: float | None = None) -> JsonObject:
    """A `CoverageValue`: `{"$type": "INCLUDED"}` or `{"$type": "DECIMAL", "value": n}`."""
    return {"$type": kind} if value is None else {"$type": kind, "value": value}


INCLUDED = _value("INCLUDED")
NOT_INCLUDED = _value("NOT_INCLUDED")


def is_narrow_group(name: str | None) -> bool:
    """A group whose name says "dar" (narrow kasko) prices cheaper and covers less."""
    return name is not None and "dar" in name.casefold().split()


def group_coverage(group_name: str | None) -> JsonObject:
    """The kasko coverage a coverage group asks for; `$type` first (0.2)."""
    narrow = is_narrow_group(group_name)
    return {
        "$type": "kasko",
        "productBranch": "KASKO",
        "immLimitiAyrimsiz": _value("DECIMAL", 250_000 if narrow else 1_000_000),
        "ferdiKazaVefat": _value("DECIMAL", 25_000 if narrow else 100_000),
        "ferdiKazaSakatlik": _value("DECIMAL", 25_000 if narrow else 100_000),
        "ferdiKazaTedaviMasraflari": _value("DECIMAL", 2_500 if narrow else 10_000),
        "anahtarKaybi": NOT_INCLUDED if narrow else INCLUDED,
        "maneviTazminat": NOT_INCLUDED if narrow else INCLUDED,
        "onarimServisTuru": "ANLASMALI_OZEL_SERVIS" if narrow else "YETKILI_SERVIS",
        "yedekParcaTuru": "ESDEGER_PARCA" if narrow else "ORIJINAL_PARCA",
        "camKirilmaMuafeyeti": INCLUDED if narrow else NOT_INCLUDED,
        "camOnarimTercihi": "ANLASMALI_CAM_SERVISI",
        "muafiyetOrani": _value("PERCENT", 2 if narrow else 0),
        "kiralikArac": (
            {"$type": "NONE"}
            if narrow
            else {
                "$type": "DEFINED",
                "yillikKullanimSayisi": 2,
                "tekSeferlikGunSayisi": 7,
                "aracSegment": "C",
                "pertDahil": True,
            }
        ),
        "yolYardim": INCLUDED,
        "miniOnarim": NOT_INCLUDED if narrow else INCLUDED,
        "dogalAfetler": NOT_INCLUDED if narrow else INCLUDED,
        "glkhhTeror": INCLUDED,
        "hirsizlik": INCLUDED,
        "carpisma": INCLUDED,
        "yanma": INCLUDED,
    }


def coverage_choices(insurer: Insurer) -> JsonObject:
    """One `coverage-choices:kasko` entry per insurance product (small value lists)."""
    robot = insurer.product_type is ProductType.ROBOT
    imm_limits = [250_000, 500_000, 1_000_000] + ([] if robot else [5_000_000])
    choices: JsonObject = {
        "immLimitiAyrimsiz": [_value("DECIMAL", v) for v in imm_limits]
        + ([] if robot else [_value("LIMITLESS")]),
        "onarimServisTuru": ["ANLASMALI_OZEL_SERVIS", "YETKILI_SERVIS"]
        + ([] if robot else ["ANLASMALI_YETKILI_SERVIS"]),
        "yedekParcaTuru": ["ORIJINAL_PARCA", "ESDEGER_PARCA"],
        "kiralikArac": [
            {"$type": "NONE"},
            {
                "$type": "DEFINED",
                "yillikKullanimSayisi": 2,
                "tekSeferlikGunSayisi": 7,
                "aracSegment": "C",
                "pertDahil": True,
            },
        ],
        "anahtarKaybi": [INCLUDED, NOT_INCLUDED],
        "maneviTazminat": [INCLUDED, NOT_INCLUDED],
        "camKirilmaMuafeyeti": [INCLUDED, NOT_INCLUDED],
        "camOnarimTercihi": ["ANLASMALI_CAM_SERVISI", "TUM_SERVISLER"],
        "muafiyetOrani": [_value("PERCENT", p) for p in (0, 2, 5)],
        "ferdiKazaBundle": [
            [_value("DECIMAL", d), _value("DECIMAL", s), _value("DECIMAL", t)]
            for d, s, t in ((25_000, 25_000, 2_500), (100_000, 100_000, 10_000))
        ],
    }
    return {
        "insuranceCompanyId": insurer.id,
        "productType": insurer.product_type.value,
        "productId": insurer.product_id,
        "coverageChoices": choices,
    }
