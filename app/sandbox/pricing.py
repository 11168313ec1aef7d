"""Deterministic kasko pricing: premiums from vehicle + insurer + coverage group, pricing
delays per product, and which product of a proposal fails.

Nothing here reads the clock or mutates state; `lifecycle.py` applies the results.
"""

import hashlib

from .catalogue import INSTALLMENTS, Insurer
from .coverage import is_narrow_group
from .enums import ProductType, VehicleUtilizationStyle
from .records import Premium, Vehicle

MIN_SINGLE_PREMIUM = 8_000.0
MAX_SINGLE_PREMIUM = 36_000.0
"""Single-payment gross premiums stay in 8 000 - 36 000 TRY (6 installments: <= 40 000)."""
BSMV_RATE = 0.05
"""Banking and insurance transactions tax on top of the net premium."""
COMMISSION_RATE = 0.12

FAILURE_MESSAGES = (
    "Sigorta şirketi servisinden yanıt alınamadı (zaman aşımı).",
    "Araç için kasko değer listesinde kayıt bulunamadı.",
    "Aracın hasar geçmişi nedeniyle otomatik teklif verilemiyor.",
    "Sigortalının kimlik bilgileri sigorta şirketi tarafından doğrulanamadı.",
)

_STYLE_FACTORS = {
    VehicleUtilizationStyle.TAXI: 1.6,
    VehicleUtilizationStyle.RENTAL_CAR: 1.4,
    VehicleUtilizationStyle.MINIBUS_SHARED_TAXI: 1.5,
}


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _vehicle_key(vehicle: Vehicle) -> str:
    plate = f"{vehicle.plate_city:02d}{vehicle.plate_code}" if vehicle.has_plate else vehicle.id
    model = vehicle.model_type.reference if vehicle.model_type else "-"
    return f"{plate}/{model}/{vehicle.model_year}/{vehicle.utilization_style.value}"


def single_payment_premium(
    vehicle: Vehicle, insurer: Insurer, coverage_group_name: str | None
) -> float:
    """Gross premium for one installment, deterministic from vehicle, insurer and group."""
    spread = 0.9 + 0.25 * _unit("premium", _vehicle_key(vehicle), insurer.id)
    group = 0.6 if is_narrow_group(coverage_group_name) else 1.0
    style = _STYLE_FACTORS.get(vehicle.utilization_style, 1.0)
    gross = vehicle.market_value() * insurer.rate * spread * group * style
    return round(min(MAX_SINGLE_PREMIUM, max(MIN_SINGLE_PREMIUM, gross)), 2)


def premiums_for(
    vehicle: Vehicle,
    insurer: Insurer,
    coverage_group_name: str | None,
    product_id: str,
    year: int,
) -> list[Premium]:
    """Premiums for installments 1, 3 and 6 (later ones a bit dearer)."""
    single = single_payment_premium(vehicle, insurer, coverage_group_name)
    number = int(_unit("proposal-number", product_id) * 10**8)
    proposal_number = f"{insurer.proposal_prefix}-{year}-{number:08d}"
    premiums = []
    for installments, surcharge in INSTALLMENTS:
        gross = round(single * surcharge, 2)
        net = round(gross / (1 + BSMV_RATE), 2)
        premiums.append(
            Premium(
                installment_number=installments,
                net_premium=net,
                gross_premium=gross,
                commission=round(net * COMMISSION_RATE, 2),
                proposal_number=proposal_number,
            )
        )
    return premiums


def pricing_delay(
    delay_range: tuple[float, float], product_id: str, product_type: ProductType, attempt: int
) -> float:
    """Seconds until a product is priced: web services in the lower half of the range,
    robots (slower) in the upper 45 %. Never beyond the range's upper bound."""
    low, high = delay_range
    unit = _unit("delay", product_id, attempt)
    share = 0.55 + 0.45 * unit if product_type is ProductType.ROBOT else 0.5 * unit
    return low + share * (high - low)


def failing_insurer_index(proposal_id: str, coverage_group_id: str | None, count: int) -> int:
    """Which product (by insurer position) of a coverage group fails pricing: exactly one."""
    return int(_unit("fails", proposal_id, coverage_group_id) * count)


def failure_message(proposal_id: str, coverage_group_id: str | None) -> str:
    index = int(_unit("message", proposal_id, coverage_group_id) * len(FAILURE_MESSAGES))
    return FAILURE_MESSAGES[index]


def undamaged_discount(vehicle: Vehicle, insurer: Insurer) -> float | None:
    """The no-claims discount rate (a fraction) some insurers report, or None."""
    unit = _unit("undamaged", _vehicle_key(vehicle), insurer.id)
    if unit < 0.4:
        return None
    return round(0.1 + 0.05 * int(unit * 8 % 6), 2)


def turkish_amount(amount: float) -> str:
    """`18245.5` -> `18.245,50 TL`."""
    text = f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{text} TL"
