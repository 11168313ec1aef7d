"""Static world data: a small, realistic vehicle catalogue (brands, model types) and the
insurers that quote kasko (reference 2.5, 4.4, 6.6).

Everything here is deterministic; plate-derived facts live in `lookup.py`.
"""

from dataclasses import dataclass

from .enums import PaymentOption, ProductType, VehicleFuelType

CATALOGUE_YEAR = 2026
"""The newest model year in the catalogue (prices are list prices of that year)."""


@dataclass(frozen=True)
class Brand:
    reference: str
    """`value` in `vehicle-parameters/brands`, `brandReference` in the create body."""
    name: str

    def to_json(self) -> dict[str, object]:
        return {"value": self.reference, "text": self.name}


@dataclass(frozen=True)
class ModelType:
    reference: str
    """`value` in `vehicle-parameters/models`, `modelTypeReference` in the create body."""
    brand: Brand
    text: str
    fuel: VehicleFuelType
    first_year: int
    last_year: int
    list_price: int
    """Market value in TRY of a `last_year` car; older years lose 7 % a year."""
    wmi: str
    """World manufacturer identifier: the first 3 characters of the chassis number."""
    engine_code: str
    seats: int = 5

    def offered_in(self, year: int) -> bool:
        return self.first_year <= year <= self.last_year

    def market_value(self, year: int) -> int:
        age = max(0, self.last_year - year)
        return int(round(self.list_price * 0.93**age, -3))

    def to_json(self) -> dict[str, object]:
        return {"value": self.reference, "text": self.text}


RENAULT = Brand("052", "RENAULT")
FIAT = Brand("020", "FIAT")
TOYOTA = Brand("061", "TOYOTA")
VOLKSWAGEN = Brand("067", "VOLKSWAGEN")
HYUNDAI = Brand("032", "HYUNDAI")
FORD = Brand("021", "FORD")
HONDA = Brand("029", "HONDA")

BRANDS: tuple[Brand, ...] = (FIAT, FORD, HONDA, HYUNDAI, RENAULT, TOYOTA, VOLKSWAGEN)

_G = VehicleFuelType.GASOLINE
_D = VehicleFuelType.DIESEL
MODEL_TYPES: tuple[ModelType, ...] = (
    ModelType("052101", RENAULT, "CLIO 1.0 TCe Joy", _G, 2019, 2026, 1_150_000, "VF1", "H4D"),
    ModelType("052102", RENAULT, "CLIO 1.5 dCi Touch", _D, 2013, 2020, 1_050_000, "VF1", "K9K"),
    ModelType("052121", RENAULT, "MEGANE 1.3 TCe Icon", _G, 2016, 2024, 1_500_000, "VF1", "H5H"),
    ModelType("020301", FIAT, "EGEA 1.3 Multijet Easy", _D, 2016, 2026, 1_100_000, "NM4", "199B"),
    ModelType("020302", FIAT, "EGEA 1.4 Fire Urban", _G, 2016, 2026, 980_000, "NM4", "843A"),
    ModelType(
        "020303",
        FIAT,
        "EGEA CROSS 1.4 Fire LPG",
        VehicleFuelType.LPG_GASOLINE,
        2021,
        2026,
        1_050_000,
        "NM4",
        "843A",
    ),
    ModelType("061201", TOYOTA, "COROLLA 1.5 Dream", _G, 2019, 2026, 1_450_000, "NMT", "M15A"),
    ModelType(
        "061202",
        TOYOTA,
        "COROLLA 1.8 Hybrid Flame",
        VehicleFuelType.HYBRID,
        2019,
        2026,
        1_650_000,
        "NMT",
        "2ZR",
    ),
    ModelType(
        "067401", VOLKSWAGEN, "PASSAT 1.5 TSI Business", _G, 2015, 2024, 2_100_000, "WVW", "DPC"
    ),
    ModelType(
        "067402", VOLKSWAGEN, "PASSAT 1.6 TDI Comfortline", _D, 2014, 2020, 1_700_000, "WVW", "DCX"
    ),
    ModelType("067411", VOLKSWAGEN, "POLO 1.0 TSI Life", _G, 2018, 2026, 1_100_000, "WVW", "DKL"),
    ModelType("032101", HYUNDAI, "I20 1.4 MPI Jump", _G, 2015, 2026, 900_000, "NLH", "G4LC"),
    ModelType("021501", FORD, "FOCUS 1.5 TDCi Trend X", _D, 2015, 2022, 1_250_000, "WF0", "XWDA"),
    ModelType(
        "021502", FORD, "FOCUS 1.0 EcoBoost Titanium", _G, 2018, 2024, 1_300_000, "WF0", "M1DA"
    ),
    ModelType(
        "029101",
        HONDA,
        "CIVIC 1.6 i-VTEC Eco Elegance",
        VehicleFuelType.LPG_GASOLINE,
        2016,
        2023,
        1_350_000,
        "NLA",
        "R16Z",
    ),
)

_BRANDS_BY_REFERENCE = {brand.reference: brand for brand in BRANDS}
_MODELS_BY_REFERENCE = {model.reference: model for model in MODEL_TYPES}


def brand_by_reference(reference: str) -> Brand | None:
    return _BRANDS_BY_REFERENCE.get(reference)


def model_by_reference(reference: str) -> ModelType | None:
    return _MODELS_BY_REFERENCE.get(reference)


def models_of(brand: Brand, year: int | None = None) -> list[ModelType]:
    return [
        model
        for model in MODEL_TYPES
        if model.brand == brand and (year is None or model.offered_in(year))
    ]


# --- insurers -----------------------------------------------------------------------

_REDIRECT_GROUP = (
    PaymentOption.SYNC_CREDIT_CARD,
    PaymentOption.SYNC_OPEN_ACCOUNT,
    PaymentOption.ASYNC_INSURANCE_COMPANY_REDIRECT,
    PaymentOption.ASYNC_THIRD_PARTY_3D_SECURE,
)
"""DOC-PAY 6.6: CC, OA, ICR, 3P (no 3DS)."""
_THREE_D_GROUP = (
    PaymentOption.SYNC_CREDIT_CARD,
    PaymentOption.SYNC_OPEN_ACCOUNT,
    PaymentOption.ASYNC_3D_SECURE,
    PaymentOption.ASYNC_THIRD_PARTY_3D_SECURE,
)
"""DOC-PAY 6.6: CC, OA, 3DS, 3P (no ICR): Doğa and Türkiye Sigorta."""


@dataclass(frozen=True)
class Insurer:
    id: int
    name: str
    slug: str
    """Logo file name: `/sandbox/logos/{slug}.svg`."""
    color: str
    product_id: int
    product_name: str
    product_type: ProductType
    payment_options: tuple[PaymentOption, ...]
    rate: float
    """Base kasko rate (share of the market value) for a full-cover group."""
    proposal_prefix: str
    """Prefix of the insurer's own proposal numbers (`insuranceCompanyProposalNumber`)."""

    def logo_path(self) -> str:
        return f"/sandbox/logos/{self.slug}.svg"


INSURERS: tuple[Insurer, ...] = (
    Insurer(
        7, "Anadolu Sigorta", "anadolu", "#00519e", 2218, "Anadolu Kasko",
        ProductType.WEB_SERVICE, _REDIRECT_GROUP, 0.0205, "ANS",
    ),
    Insurer(
        95, "AXA Sigorta", "axa", "#00008f", 2408, "AXA Kasko",
        ProductType.WEB_SERVICE, _REDIRECT_GROUP, 0.0220, "AXA",
    ),
    Insurer(
        43, "Doğa Sigorta", "doga", "#e30613", 1592, "Doğa Kasko",
        ProductType.WEB_SERVICE, _THREE_D_GROUP, 0.0180, "DGA",
    ),
    Insurer(
        54, "HDI Sigorta", "hdi", "#006b3f", 3279, "HDI Kasko",
        ProductType.WEB_SERVICE, _REDIRECT_GROUP, 0.0195, "HDI",
    ),
    Insurer(
        61, "Sompo Sigorta", "sompo", "#c8102e", 3180, "Sompo Kasko",
        ProductType.ROBOT, _REDIRECT_GROUP, 0.0190, "SMP",
    ),
    Insurer(
        108, "Türkiye Sigorta", "turkiye", "#d71920", 4410, "Türkiye Sigorta Kasko",
        ProductType.WEB_SERVICE, _THREE_D_GROUP, 0.0175, "TRS",
    ),
    Insurer(
        17, "Unico Sigorta", "unico", "#7b2d8e", 3118, "Unico Kasko",
        ProductType.ROBOT, _REDIRECT_GROUP, 0.0200, "UNC",
    ),
)  # fmt: skip
"""Ids from the reference site's configuration where known (4.4); Türkiye Sigorta's id and
product id are made up. Two robots (Sompo, Unico) as in DOC-ROBOT."""

_INSURERS_BY_SLUG = {insurer.slug: insurer for insurer in INSURERS}


def insurer_by_slug(slug: str) -> Insurer | None:
    return _INSURERS_BY_SLUG.get(slug)


INSTALLMENTS: tuple[tuple[int, float], ...] = ((1, 1.0), (3, 1.04), (6, 1.09))
"""Offered installment counts and their surcharge on the single-payment premium."""
