"""Customer vehicles (reference 2.2-2.4): lookup, create, list, get."""

from typing import Any

import pytest

from .conftest import (
    ME,
    NO_CASES_TCKN,
    OPEN_KASKO_TCKN,
    Sandbox,
    assert_problem,
)
from .flows import DEMO_PLATE, DEMO_SERIAL, shopper, vehicle_body


async def test_demo_plate_lookup_gives_the_documented_renault_clio(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    response = await me.lookup(DEMO_PLATE, DEMO_SERIAL)

    assert response.status_code == 200, response.text
    facts = response.json()
    assert facts["plate"] == DEMO_PLATE
    assert facts["documentSerial"] == DEMO_SERIAL
    assert facts["model"]["brand"]["text"] == "RENAULT"
    assert facts["model"]["type"]["text"].startswith("CLIO")
    assert facts["model"]["year"] == 2021
    assert facts["fuelType"] == "GASOLINE"  # a bare enum, not the `fuel` object
    assert facts["utilizationStyle"] == "PRIVATE_CAR"
    assert 4 <= len(facts["chassis"]) <= 17
    assert 6 <= len(facts["engine"]) <= 40
    assert facts["currency"] == "TURKISH_LIRA"
    assert facts["price"] > 0
    assert "fuel" not in facts
    assert "chassisNumber" not in facts


async def test_lookup_is_deterministic_and_matches_the_vehicle_parameters(
    sandbox: Sandbox,
) -> None:
    me = await shopper(sandbox)
    plates = [{"city": 6, "code": f"AB{n}"} for n in range(101, 131)]

    first = [(await me.lookup(plate)).json() for plate in plates]
    second = [(await me.lookup(plate)).json() for plate in plates]

    assert first == second
    assert len({facts["model"]["type"]["value"] for facts in first}) > 5
    brands = {
        b["value"]: b["text"] for b in (await me.get("/api/vehicle-parameters/brands")).json()
    }
    for facts in first[:8]:
        model = facts["model"]
        assert brands[model["brand"]["value"]] == model["brand"]["text"]
        models = await me.get(
            "/api/vehicle-parameters/models",
            params={"brandReference": model["brand"]["value"], "year": model["year"]},
        )
        assert model["type"] in models.json()
    assert sandbox.state.vehicle_lookups["06AB101"] == 2


@pytest.mark.parametrize("plate", [{"city": 34, "code": "XYZ000"}, {"city": 6, "code": "A1000"}])
async def test_unknown_plate_is_404(sandbox: Sandbox, plate: dict[str, Any]) -> None:
    me = await shopper(sandbox)

    problem = assert_problem(await me.lookup(plate), 404, "resource-not-found")

    assert problem["codes"] == ["VEHICLE_NOT_FOUND"]


async def test_failing_plate_is_a_500_upstream_problem(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    response = await me.lookup({"city": 6, "code": "ZZ999"})

    assert_problem(response, 500, "upstream-service")


async def test_create_then_list_and_get_use_the_list_shapes(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    facts = (await me.lookup(DEMO_PLATE, DEMO_SERIAL)).json()
    accessories = [{"$type": "audio", "price": 4500}]

    created = await me.create_vehicle(vehicle_body(me.customer_id, facts, accessories=accessories))

    assert created.status_code == 200, created.text
    vehicle_id = created.json()["id"]
    assert set(created.json()) == {"id"}
    mine = (await me.get("/api/customers/me/vehicles")).json()
    by_id = (await me.get(f"/api/customers/{me.customer_id}/vehicles")).json()
    single = (await me.get(f"/api/customers/{me.customer_id}/vehicles/{vehicle_id}")).json()
    assert mine == by_id
    assert len(mine) == 1
    item = mine[0]
    assert item["id"] == vehicle_id
    assert item["customerId"] == me.customer_id
    assert item["hasPlate"] is True
    assert item["plate"] == DEMO_PLATE
    assert item["model"] == facts["model"]
    assert item["fuel"]["type"] == "GASOLINE"
    assert item["engineNumber"] == facts["engine"]
    assert item["chassisNumber"] == facts["chassis"]
    assert item["documentSerial"] == DEMO_SERIAL
    assert "accessories" not in item
    assert single["accessories"] == accessories
    assert (await me.get(ME)).json()["vehicleCount"] == 1
    assert sandbox.state.vehicle_creations[me.customer_id] == 1


async def test_minimal_contract_body_and_unplated_vehicle(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    created = await me.create_vehicle(
        {
            "customerId": me.customer_id,
            "plate": {"city": 34, "code": None},
            "utilizationStyle": "PRIVATE_CAR",
            "accessories": [],
        }
    )

    assert created.status_code == 200, created.text
    item = (await me.get("/api/customers/me/vehicles")).json()[0]
    assert item["hasPlate"] is False
    assert item["model"] is None


def _demo_body(customer_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "customerId": customer_id,
        "plate": DEMO_PLATE,
        "modelYear": 2021,
        "brandReference": "052",
        "modelTypeReference": "052101",
        "utilizationStyle": "PRIVATE_CAR",
        "accessories": [],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("overrides", "properties"),
    [
        pytest.param({"plate": "34ABC123"}, {"plate"}, id="plate-as-string"),
        pytest.param(
            {"documentSerialCode": "AB", "documentSerialNumber": "123456"},
            {"documentSerialCode", "documentSerialNumber"},
            id="document-serial-flat",
        ),
        pytest.param({"brandCode": "052", "brandReference": None}, {"brandCode"}, id="brandCode"),
        pytest.param({"year": 2021, "modelYear": None}, {"year"}, id="year"),
        pytest.param({"modelCode": "052101"}, {"modelCode"}, id="modelCode"),
        pytest.param({"utilizationStyle": None}, {"utilizationStyle"}, id="no-utilization"),
        pytest.param({"utilizationStyle": "private_car"}, {"utilizationStyle"}, id="lowercase"),
        pytest.param({"accessories": None}, {"accessories"}, id="no-accessories"),
        pytest.param({"plate": {"city": 82, "code": "ABC123"}}, {"plate.city"}, id="city-82"),
        pytest.param({"plate": {"city": 34, "code": "ABC-12"}}, {"plate.code"}, id="bad-code"),
        pytest.param({"brandReference": "999"}, {"brandReference"}, id="unknown-brand"),
        pytest.param({"modelYear": 2012}, {"modelYear"}, id="year-outside-model"),
        pytest.param(
            {"accessories": [{"price": 10, "$type": "audio"}]},
            {"accessories[0].$type"},
            id="accessory-type-not-first",
        ),
    ],
)
async def test_seed_and_invalid_vehicle_shapes_are_rejected(
    sandbox: Sandbox, overrides: dict[str, Any], properties: set[str]
) -> None:
    me = await shopper(sandbox)
    body = _demo_body(me.customer_id, **overrides)
    body.update({k: v for k, v in overrides.items() if v is not None})

    problem = assert_problem(await me.create_vehicle(body), 422, "input-validation")

    assert {issue["propertyName"] for issue in problem["validationErrors"]} == properties
    assert sandbox.state.vehicles_of(me.customer_id) == []


async def test_the_same_plate_twice_is_a_duplicate(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    await me.add_vehicle()

    again = await me.create_vehicle(_demo_body(me.customer_id))

    problem = assert_problem(again, 409, "resource-duplicate")
    assert problem["codes"] == ["VEHICLE_ALREADY_EXISTS"]


async def test_the_seeded_customer_has_a_vehicle(sandbox: Sandbox) -> None:
    mehmet = await shopper(sandbox, OPEN_KASKO_TCKN)

    vehicles = (await mehmet.get("/customers/me/vehicles")).json()

    assert [(v["plate"], v["model"]["type"]["text"]) for v in vehicles] == [
        ({"city": 35, "code": "KLM789"}, "EGEA 1.3 Multijet Easy")
    ]


async def test_customers_only_see_their_own_vehicles(sandbox: Sandbox) -> None:
    mehmet = await shopper(sandbox, OPEN_KASKO_TCKN)
    emre = await shopper(sandbox, NO_CASES_TCKN)
    vehicle_id = (await mehmet.get("/api/customers/me/vehicles")).json()[0]["id"]

    other_list = await emre.get(f"/api/customers/{mehmet.customer_id}/vehicles")
    other_get = await emre.get(f"/api/customers/{mehmet.customer_id}/vehicles/{vehicle_id}")
    own_path = await emre.get(f"/api/customers/{emre.customer_id}/vehicles/{vehicle_id}")
    create = await emre.post(
        f"/api/customers/{mehmet.customer_id}/vehicles", _demo_body(mehmet.customer_id)
    )
    lookup = await emre.post(
        f"/api/customers/{emre.customer_id}/vehicles/external-lookup",
        {"customerId": mehmet.customer_id, "plate": DEMO_PLATE},
    )

    assert_problem(other_list, 403, "access-denied")
    assert_problem(other_get, 403, "access-denied")
    assert_problem(own_path, 403, "access-denied")
    assert_problem(create, 403, "access-denied")
    assert_problem(lookup, 403, "access-denied")
    assert (await emre.get("/api/customers/me/vehicles")).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/customers/me/vehicles"),
        ("GET", "/customers/me/vehicles"),
        ("POST", "/api/customers/00000000-0000-0000-0000-000000000000/vehicles"),
        ("POST", "/customers/00000000-0000-0000-0000-000000000000/vehicles/external-lookup"),
    ],
)
async def test_vehicle_calls_need_a_token(sandbox: Sandbox, method: str, path: str) -> None:
    response = await sandbox.client.request(method, path, json={})

    assert_problem(response, 401, "unauthorized")
