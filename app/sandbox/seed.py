"""The seeded world (documented in README.md)."""

from dataclasses import dataclass

from .enums import (
    CaseMainState,
    CaseStatus,
    CaseSubState,
    Channel,
    CustomerKind,
    ProductBranch,
    VehicleUtilizationStyle,
)
from .lookup import vehicle_facts
from .records import Vehicle
from .state import PhoneNumber, SandboxState

DEMO_AGENT_ID = "3f2b9c1e-5a7d-4e21-9c0b-000000000001"
DAY = 24 * 3600.0


@dataclass(frozen=True)
class SeedIdentity:
    identity_number: str
    full_name: str
    birth_date: str
    phone_number: str


DEMO = SeedIdentity("11111111110", "Ada Yılmaz", "1990-01-01", "5321234567")
"""Open TRAFIK case + closed (SUCCESS) KASKO case: no active kasko lead."""
OPEN_KASKO = SeedIdentity("10000000146", "Mehmet Demir", "1985-06-15", "5329876543")
"""Already has an OPEN SALE_OPPORTUNITY KASKO case."""
DELAYED_KASKO = SeedIdentity("10000000214", "Zeynep Kara", "1979-11-30", "5351112233")
"""Has a KASKO sale opportunity with status DELAYED (reference 3.3 caveat)."""
NO_CASES = SeedIdentity("20000000046", "Emre Şahin", "2000-02-29", "5442223344")
"""Registered customer without any case (may log in without birthDate)."""

SEEDED_IDENTITIES = (DEMO, OPEN_KASKO, DELAYED_KASKO, NO_CASES)

DEMO_PLATE = (34, "ABC123")
"""Not registered to anyone: look it up (serial AB123456) and create the vehicle."""
SEEDED_VEHICLE_ID = "5b0c3a9e-7d41-4f8a-9e26-0000000035a1"
SEEDED_VEHICLE_PLATE = (35, "KLM789")
"""Mehmet Demir's FIAT EGEA 1.3 Multijet Easy, 2019, DIESEL."""


def seed_world(state: SandboxState) -> None:
    now = state.now()
    ids: dict[str, str] = {}
    for identity in SEEDED_IDENTITIES:
        customer = state.register_customer(
            kind=CustomerKind.INDIVIDUAL,
            number=identity.identity_number,
            phone=PhoneNumber(90, identity.phone_number),
            agent_id=DEMO_AGENT_ID,
            birth_date=identity.birth_date,
            full_name=identity.full_name,
            created_at=now - 500 * DAY,
        )
        ids[identity.identity_number] = customer.id

    _seed_vehicle(state, ids[OPEN_KASKO.identity_number], now - 300 * DAY)

    demo = ids[DEMO.identity_number]
    state.add_case(
        case_id="665f00000000000000000001",
        customer_id=demo,
        product_branch=ProductBranch.KASKO,
        channel=Channel.WEBSITE,
        status=CaseStatus.SUCCESS,
        main_state=CaseMainState.SUCCESS,
        sub_state=CaseSubState.SUCCESS_COMPLETED,
        created_at=now - 400 * DAY,
    )
    state.add_case(
        case_id="665f00000000000000000002",
        customer_id=demo,
        product_branch=ProductBranch.TRAFIK,
        channel=Channel.WEBSITE,
        created_at=now - 20 * DAY,
    )
    state.add_case(
        case_id="665f00000000000000000003",
        customer_id=ids[OPEN_KASKO.identity_number],
        product_branch=ProductBranch.KASKO,
        channel=Channel.WEBSITE,
        created_at=now - 2 * DAY,
    )
    state.add_case(
        case_id="665f00000000000000000004",
        customer_id=ids[DELAYED_KASKO.identity_number],
        product_branch=ProductBranch.KASKO,
        channel=Channel.CALL_CENTER,
        status=CaseStatus.DELAYED,
        main_state=CaseMainState.OPEN,
        sub_state=CaseSubState.OPEN_DELAYED,
        created_at=now - 10 * DAY,
    )


def _seed_vehicle(state: SandboxState, customer_id: str, created_at: float) -> None:
    facts = vehicle_facts(*SEEDED_VEHICLE_PLATE)
    state.add_vehicle(
        Vehicle(
            id=SEEDED_VEHICLE_ID,
            customer_id=customer_id,
            plate_city=facts.city,
            plate_code=facts.code,
            utilization_style=VehicleUtilizationStyle.PRIVATE_CAR,
            created_at=created_at,
            brand=facts.model.brand,
            model_type=facts.model,
            model_year=facts.year,
            fuel={"type": facts.model.fuel.value, "customLpg": False, "customLpgPrice": None},
            engine=facts.engine,
            chassis=facts.chassis,
            registration_date=facts.registration_date,
            seat_number=facts.model.seats,
            document_serial={"code": facts.serial_code, "number": facts.serial_number},
        )
    )
