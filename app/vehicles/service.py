"""The customer's vehicles: list, look up by plate, register (filling gaps from the lookup),
and the brand/model reference lists for manual entry."""

import logging
import re
from typing import NoReturn

from pydantic import TypeAdapter

from app.core.tokens import CustomerClients
from app.errors import (
    FieldError,
    GatewayError,
    NotFound,
    UpstreamRejected,
    VehicleDetailsRequired,
    VehicleNotFound,
)
from app.insurup.vehicles import LookupWire, ModelWire, NewVehicle, Parameter, VehicleWire
from app.store.cache import ReferenceCache
from app.store.sessions import SessionRecord
from app.validation import DocumentSerial, Plate, parse_plate, parse_serial
from app.validation.dates import today_in_turkey
from app.vehicles.schemas import Reference, VehicleCreate, VehicleFacts, VehicleRead

log = logging.getLogger("app.vehicles")

_REFERENCES = TypeAdapter(list[Reference])
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _reference(parameter: Parameter | None) -> Reference | None:
    if parameter is None:
        return None
    return Reference(reference=str(parameter.value), name=parameter.text)


def _plate_text(wire: LookupWire | VehicleWire) -> str | None:
    if wire.plate is None:
        return None
    return f"{wire.plate.city:02d}{wire.plate.code or ''}"


def _serial_text(wire: LookupWire | VehicleWire) -> str | None:
    serial = wire.document_serial
    if serial is None or not serial.code or not serial.number:
        return None
    return f"{serial.code}{serial.number}"


def facts_of(wire: LookupWire) -> VehicleFacts:
    model = wire.model or ModelWire()
    return VehicleFacts(
        plate=_plate_text(wire),
        document_serial=_serial_text(wire),
        brand=_reference(model.brand),
        model=_reference(model.type),
        model_year=model.year,
        fuel_type=wire.fuel_type,
        utilization_style=wire.utilization_style,
        registration_date=wire.registration_date,
    )


def vehicle_of(wire: VehicleWire) -> VehicleRead:
    model = wire.model or ModelWire()
    return VehicleRead(
        id=wire.id,
        plate=_plate_text(wire),
        document_serial=_serial_text(wire),
        brand=_reference(model.brand),
        model=_reference(model.type),
        model_year=model.year,
        fuel_type=wire.fuel.type if wire.fuel else None,
        utilization_style=wire.utilization_style,
        registration_date=wire.registration_date,
    )


class VehicleService:
    def __init__(self, *, insurup: CustomerClients, cache: ReferenceCache) -> None:
        self._insurup = insurup
        self._cache = cache

    async def all(self, record: SessionRecord) -> list[VehicleRead]:
        wires = await self._insurup.of(record).vehicles()
        return [vehicle_of(w) for w in wires]

    async def lookup(self, record: SessionRecord, *, plate: str, serial: str) -> VehicleFacts:
        """What the registry knows of a plate; `422 vehicle_details_required` when it knows
        the car only in part (InsurUp masks the model year), with choices for what is missing."""
        wire = await self._lookup(record, parse_plate(plate), parse_serial(serial))
        facts = facts_of(wire)
        if facts.brand is None:
            raise VehicleNotFound()
        if facts.model is None or facts.model_year is None:
            await self._details_required(
                record,
                brand=facts.brand,
                model=facts.model,
                year=facts.model_year,
                detail="The registry shows this vehicle only in part; give the details below",
            )
        # Echo what the customer asked about when InsurUp leaves it out.
        return facts.model_copy(
            update={
                "plate": facts.plate or plate,
                "document_serial": facts.document_serial or serial,
            }
        )

    async def _lookup(
        self, record: SessionRecord, plate: Plate, serial: DocumentSerial
    ) -> LookupWire:
        try:
            return await self._insurup.of(record).lookup_vehicle(
                customer_id=record.customer_id, plate=plate, serial=serial
            )
        except NotFound as exc:
            raise VehicleNotFound() from exc
        except UpstreamRejected as exc:
            # Another customer's car: the same answer as no car, in our words (no oracle).
            if exc.status != 403:
                raise
            raise VehicleNotFound() from exc

    async def create(self, record: SessionRecord, form: VehicleCreate) -> VehicleRead:
        """Register a vehicle; what the form leaves out comes from the plate lookup (chassis,
        engine and seats too, unless the registry masked them)."""
        plate, serial = parse_plate(form.plate), parse_serial(form.document_serial)
        wire = LookupWire()
        if None in (
            form.brand_reference,
            form.model_type_reference,
            form.model_year,
            form.fuel_type,
        ):
            wire = await self._lookup_or_nothing(record, plate, serial)
        facts = facts_of(wire)
        brand = _pick(form.brand_reference, facts.brand)
        model = _pick(form.model_type_reference, facts.model)
        year = form.model_year or facts.model_year
        if brand is None or model is None or year is None:
            await self._details_required(
                record,
                brand=brand,
                model=model,
                year=year,
                detail="The vehicle could not be looked up in full; give the details below",
            )
        fuel = form.fuel_type or facts.fuel_type
        vehicle = NewVehicle(
            plate=plate,
            serial=serial,
            brand_reference=brand.reference,
            model_type_reference=model.reference,
            model_year=year,
            utilization_style=form.utilization_style,
            fuel_type=fuel,
            chassis=wire.usable_chassis,
            engine=wire.usable_engine,
            seat_number=wire.seat_number,
            registration_date=facts.registration_date,
        )
        vehicle_id = await self._insurup.of(record).create_vehicle(
            customer_id=record.customer_id, vehicle=vehicle
        )
        return VehicleRead(
            id=vehicle_id,
            plate=str(plate),
            document_serial=str(serial),
            brand=brand,
            model=model,
            model_year=year,
            fuel_type=fuel,
            utilization_style=form.utilization_style,
            registration_date=facts.registration_date,
        )

    async def _lookup_or_nothing(
        self, record: SessionRecord, plate: Plate, serial: DocumentSerial
    ) -> LookupWire:
        try:
            return await self._lookup(record, plate, serial)
        except GatewayError as exc:
            if exc.status == 401:
                raise
            # The lookup is a convenience: its failure only means the form must say more.
            log.info("vehicle lookup unavailable", extra={"code": exc.code})
            return LookupWire()

    async def _details_required(
        self,
        record: SessionRecord,
        *,
        brand: Reference | None,
        model: Reference | None,
        year: int | None,
        detail: str,
    ) -> NoReturn:
        """422 naming the missing fields, with what to pick from for each (and what is
        known, as a single choice, so a form can be prefilled)."""
        missing = [
            name
            for name, value in (
                ("brandReference", brand),
                ("modelTypeReference", model),
                ("modelYear", year),
            )
            if value is None
        ]
        choices: dict[str, list[Reference]] = {}
        try:
            choices["brandReference"] = [brand] if brand else await self.brands(record)
            if model is not None:
                choices["modelTypeReference"] = [model]
            elif brand is not None and year is not None:
                choices["modelTypeReference"] = await self.models(
                    record, brand=brand.reference, year=year
                )
        except GatewayError as exc:
            if exc.status == 401:
                raise
            log.info("vehicle choices unavailable", extra={"code": exc.code})
        choices["modelYear"] = _years() if year is None else [_year(year)]
        raise VehicleDetailsRequired(
            detail,
            errors=[FieldError(field=name, message="is required") for name in missing],
            extras={
                "choices": {
                    field: [c.model_dump(by_alias=True) for c in options]
                    for field, options in choices.items()
                }
            },
        )

    async def brands(self, record: SessionRecord) -> list[Reference]:
        async def load() -> list[Reference]:
            return _unique(await self._insurup.of(record).brands())

        return await self._cache.get_or_load("brands", load, shape=_REFERENCES)

    async def models(self, record: SessionRecord, *, brand: str, year: int) -> list[Reference]:
        async def load() -> list[Reference]:
            wires = await self._insurup.of(record).models(brand_reference=brand, year=year)
            return _unique(wires)

        name = f"models:{_SAFE_NAME.sub('_', brand)}:{year}"
        return await self._cache.get_or_load(name, load, shape=_REFERENCES)


def _unique(wires: list[Parameter]) -> list[Reference]:
    """InsurUp may list a value twice (its own site de-duplicates by value)."""
    seen: dict[str, str] = {}
    for wire in wires:
        seen.setdefault(str(wire.value), wire.text)
    return [Reference(reference=value, name=text) for value, text in seen.items()]


def _year(year: int) -> Reference:
    return Reference(reference=str(year), name=str(year))


def _years() -> list[Reference]:
    """Model years a customer may pick, newest first (next year's models sell from autumn)."""
    newest = today_in_turkey().year + 1
    return [_year(year) for year in range(newest, newest - 40, -1)]


def _pick(given: str | None, looked_up: Reference | None) -> Reference | None:
    """The customer's choice wins; the lookup names it when it agrees, else the id stands in."""
    if given is None:
        return looked_up
    name = looked_up.name if looked_up and looked_up.reference == given else given
    return Reference(reference=given, name=name)
