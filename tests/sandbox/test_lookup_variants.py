"""External lookup as InsurUp documents it: masking flags, `partialModel`, serial formats."""

from typing import Any

import pytest

from .conftest import Sandbox, SandboxFactory, assert_problem
from .flows import DEMO_PLATE, DEMO_SERIAL, shopper, vehicle_body

TEST_SERIAL_PLATE = {"city": 6, "code": "ABC123"}
TEST_SERIAL = {"code": "A", "number": "1234567"}
"""InsurUp's own test serial `A/1234567`, answered for plate 06ABC123."""


async def test_every_answer_carries_the_masking_flags_and_seat_number(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    for plate in (DEMO_PLATE, {"city": 6, "code": "AB101"}, TEST_SERIAL_PLATE):
        facts = (await me.lookup(plate)).json()
        assert facts["chassisIsMasked"] is False
        assert facts["engineIsMasked"] is False
        assert "*" not in facts["chassis"] + facts["engine"]
        assert isinstance(facts["seatNumber"], int)
        assert set(facts["model"]) == {"brand", "year", "type"}
        assert "partialModel" not in facts


async def test_partial_model_variant_has_brand_and_type_but_no_year(
    make_sandbox: SandboxFactory,
) -> None:
    plain = await make_sandbox()
    partial = await make_sandbox(lookup_partial_model=True)
    full = (await (await shopper(plain)).lookup(DEMO_PLATE, DEMO_SERIAL)).json()

    facts = (await (await shopper(partial)).lookup(DEMO_PLATE, DEMO_SERIAL)).json()

    assert "model" not in facts
    assert facts["partialModel"] == {
        "brand": {"value": "052", "text": "RENAULT"},
        "type": {"value": "052101", "text": "CLIO 1.0 TCe Joy"},
    }
    assert facts["partialModel"]["brand"] == full["model"]["brand"]
    assert facts["partialModel"]["type"] == full["model"]["type"]
    assert "year" not in str(facts["partialModel"])
    assert {k: v for k, v in facts.items() if k != "partialModel"} == {
        k: v for k, v in full.items() if k != "model"
    }


async def test_masked_variant_masks_chassis_and_engine(make_sandbox: SandboxFactory) -> None:
    plain = await make_sandbox()
    masked = await make_sandbox(lookup_masked=True)
    full = (await (await shopper(plain)).lookup(DEMO_PLATE)).json()

    facts = (await (await shopper(masked)).lookup(DEMO_PLATE)).json()

    assert facts["chassisIsMasked"] is True
    assert facts["engineIsMasked"] is True
    assert facts["chassis"] == f"{full['chassis'][0]}***{full['chassis'][-1]}"
    assert facts["engine"] == f"{full['engine'][0]}***{full['engine'][-1]}"
    assert facts["chassis"].startswith("V")  # a Renault: WMI VF1, so "V***x"
    assert facts["model"] == full["model"]


async def test_both_variants_at_once(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(lookup_masked=True, lookup_partial_model=True)

    facts = (await (await shopper(sandbox)).lookup(TEST_SERIAL_PLATE, TEST_SERIAL)).json()

    assert facts["chassisIsMasked"] is facts["engineIsMasked"] is True
    assert "model" not in facts
    assert facts["partialModel"]["brand"]["text"] == "TOYOTA"


async def test_a_masked_value_is_not_stored(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(lookup_masked=True)
    me = await shopper(sandbox)
    facts = (await me.lookup(DEMO_PLATE, DEMO_SERIAL)).json()

    copied = await me.create_vehicle(vehicle_body(me.customer_id, facts, engine="H4D1234567"))
    dropped = await me.create_vehicle(
        vehicle_body(me.customer_id, facts, chassis=None, engine=None)
    )

    problem = assert_problem(copied, 422, "input-validation")
    assert [i["propertyName"] for i in problem["validationErrors"]] == ["chassis"]
    assert dropped.status_code == 200, dropped.text
    [vehicle] = sandbox.state.vehicles_of(me.customer_id)
    assert vehicle.chassis is None
    assert vehicle.engine is None


async def test_insurups_test_serial_plate(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    response = await me.lookup(TEST_SERIAL_PLATE, TEST_SERIAL)

    assert response.status_code == 200, response.text
    facts = response.json()
    assert facts["plate"] == TEST_SERIAL_PLATE
    assert facts["documentSerial"] == TEST_SERIAL
    assert facts["model"]["brand"]["text"] == "TOYOTA"
    assert facts["model"]["type"] == {"value": "061201", "text": "COROLLA 1.5 Dream"}
    assert facts["model"]["year"] == 2022
    assert facts["fuelType"] == "GASOLINE"
    created = await me.create_vehicle(vehicle_body(me.customer_id, facts))
    assert created.status_code == 200, created.text
    [vehicle] = (await me.get("/api/customers/me/vehicles")).json()
    assert vehicle["documentSerial"] == TEST_SERIAL


@pytest.mark.parametrize(
    "serial",
    [
        pytest.param({"code": "AB", "number": "123456"}, id="2-letters-6-digits"),
        pytest.param({"code": "A", "number": "1234567"}, id="1-letter-7-digits"),
    ],
)
async def test_documented_serial_formats_are_accepted(
    sandbox: Sandbox, serial: dict[str, str]
) -> None:
    me = await shopper(sandbox)

    lookup = await me.lookup(DEMO_PLATE, serial)
    created = await me.create_vehicle(
        vehicle_body(me.customer_id, lookup.json(), documentSerial=serial)
    )

    assert lookup.status_code == 200, lookup.text
    assert created.status_code == 200, created.text


@pytest.mark.parametrize(
    "serial",
    [
        {"code": "A/", "number": "1234567"},
        {"code": "ab", "number": "123456"},
        {"code": "AB", "number": "12A456"},
        {"code": "AB", "number": 123456},
    ],
)
async def test_malformed_serials_are_refused(sandbox: Sandbox, serial: dict[str, Any]) -> None:
    me = await shopper(sandbox)

    problem = assert_problem(await me.lookup(DEMO_PLATE, serial), 422, "input-validation")

    assert all(i["propertyName"].startswith("documentSerial") for i in problem["validationErrors"])
