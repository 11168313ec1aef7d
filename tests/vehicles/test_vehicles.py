"""Vehicles: lookup, register with gaps filled from the lookup, reference data, the case gate."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import AppFactory
from tests.fake_insurup import CUSTOMER_ID, VEHICLE_ID, FakeInsurUp, problem
from tests.helpers import CSRF, sign_in_cookie


@pytest.fixture
async def api(make_app: AppFactory, insurup: FakeInsurUp) -> AsyncIterator[httpx.AsyncClient]:
    async with make_app() as client:
        await sign_in_cookie(client)
        yield client


async def test_lookup_normalises_the_plate_and_maps_the_facts(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    answer = await api.post(
        "/api/v1/vehicles/lookup",
        json={"plate": "34 abc 123", "documentSerial": "AB 123456"},
        headers=CSRF,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "plate": "34ABC123",
        "documentSerial": "AB123456",
        "brand": {"reference": "052", "name": "RENAULT"},
        "model": {"reference": "052-118", "name": "CLIO"},
        "modelYear": 2021,
        "fuelType": "GASOLINE",
        "utilizationStyle": "PRIVATE_CAR",
        "registrationDate": "2021-03-15",
    }
    sent = json.loads(insurup.router["lookup"].calls.last.request.content)
    assert sent == {
        "customerId": CUSTOMER_ID,
        "plate": {"city": 34, "code": "ABC123"},
        "documentSerial": {"code": "AB", "number": "123456"},
    }


async def test_unknown_plate_is_vehicle_not_found(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/vehicles/lookup",
        json={"plate": "06AB1234", "documentSerial": {"code": "AB", "number": "123456"}},
        headers=CSRF,
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == "vehicle_not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"plate": "99ABC123", "documentSerial": "AB123456"}, "plate"),
        ({"plate": "34ABC123", "documentSerial": "A123456"}, "documentSerial"),
        ({"documentSerial": "AB123456"}, "plate"),
    ],
)
async def test_bad_plate_or_serial_names_the_field_and_asks_insurup_nothing(
    api: httpx.AsyncClient, insurup: FakeInsurUp, body: dict[str, object], field: str
) -> None:
    answer = await api.post("/api/v1/vehicles/lookup", json=body, headers=CSRF)
    assert answer.status_code == 422
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert insurup.router["lookup"].call_count == 0


async def test_register_with_only_plate_and_serial_fills_everything_from_the_lookup(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    answer = await api.post(
        "/api/v1/vehicles", json={"plate": "34ABC123", "documentSerial": "AB123456"}, headers=CSRF
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["id"] == VEHICLE_ID
    assert answer.json()["brand"] == {"reference": "052", "name": "RENAULT"}
    sent = insurup.created_vehicles[-1]
    assert sent == {
        "customerId": CUSTOMER_ID,
        "plate": {"city": 34, "code": "ABC123"},
        "modelYear": 2021,
        "brandReference": "052",
        "modelTypeReference": "052-118",
        "utilizationStyle": "PRIVATE_CAR",
        "documentSerial": {"code": "AB", "number": "123456"},
        "accessories": [],
        "fuel": {"type": "GASOLINE", "customLpg": False, "customLpgPrice": None},
        "chassis": "VF1RJA00000000001",
        "engine": "H4D000001",
        "seatNumber": 5,
        "registrationDate": "2021-03-15",
    }


async def test_a_masked_chassis_or_engine_is_never_saved(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    """InsurUp's docs: a masked value (`W***8`, flagged) must not be stored."""
    insurup.lookup_answer |= {
        "chassis": "V***1",
        "chassisIsMasked": True,
        "engine": "H4D000001",
        "engineIsMasked": False,
    }
    answer = await api.post(
        "/api/v1/vehicles", json={"plate": "34ABC123", "documentSerial": "AB123456"}, headers=CSRF
    )
    assert answer.status_code == 201, answer.text
    sent = insurup.created_vehicles[-1]
    assert "chassis" not in sent
    assert sent["engine"] == "H4D000001"


PARTIAL = {
    "partialModel": {
        "brand": {"value": "052", "text": "RENAULT"},
        "type": {"value": "052-118", "text": "CLIO"},
    }
}


async def test_a_lookup_with_the_model_year_masked_asks_for_it_with_choices(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    """`partialModel` instead of `model` (InsurUp masks the year): not `vehicle_not_found`
    but `422 vehicle_details_required` naming `modelYear`, known values prefilled."""
    insurup.lookup_answer = {k: v for k, v in insurup.lookup_answer.items() if k != "model"}
    insurup.lookup_answer |= PARTIAL
    answer = await api.post(
        "/api/v1/vehicles/lookup",
        json={"plate": "34ABC123", "documentSerial": "AB123456"},
        headers=CSRF,
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "vehicle_details_required"
    assert problem["errors"] == [{"field": "modelYear", "message": "is required"}]
    assert problem["choices"]["brandReference"] == [{"reference": "052", "name": "RENAULT"}]
    assert problem["choices"]["modelTypeReference"] == [{"reference": "052-118", "name": "CLIO"}]
    years = [int(c["reference"]) for c in problem["choices"]["modelYear"]]
    assert years == sorted(years, reverse=True) and 2021 in years

    # With the year the customer picks, registering works from the same lookup.
    created = await api.post(
        "/api/v1/vehicles",
        json={"plate": "34ABC123", "documentSerial": "AB123456", "modelYear": 2021},
        headers=CSRF,
    )
    assert created.status_code == 201, created.text
    assert insurup.created_vehicles[-1]["modelYear"] == 2021
    assert insurup.created_vehicles[-1]["modelTypeReference"] == "052-118"


async def test_without_a_brand_the_choices_come_from_the_brands_list(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["lookup"].side_effect = None
    insurup.router["lookup"].return_value = httpx.Response(500)
    answer = await api.post(
        "/api/v1/vehicles", json={"plate": "34ABC123", "documentSerial": "A/1234567"}, headers=CSRF
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert {e["field"] for e in problem["errors"]} == {
        "brandReference",
        "modelTypeReference",
        "modelYear",
    }
    assert {"reference": "052", "name": "RENAULT"} in problem["choices"]["brandReference"]


async def test_register_with_all_details_does_not_need_the_lookup(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    body = {
        "plate": "06 AB 1234",
        "documentSerial": "CD654321",
        "brandReference": "020",
        "modelTypeReference": "020-7",
        "modelYear": 2019,
        "fuelType": "DIESEL",
        "utilizationStyle": "TAXI",
    }
    answer = await api.post("/api/v1/vehicles", json=body, headers=CSRF)
    assert answer.status_code == 201, answer.text
    assert insurup.router["lookup"].call_count == 0
    assert insurup.created_vehicles[-1]["plate"] == {"city": 6, "code": "AB1234"}
    assert insurup.created_vehicles[-1]["utilizationStyle"] == "TAXI"


async def test_when_the_lookup_fails_the_missing_details_are_named(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["lookup"].side_effect = None
    insurup.router["lookup"].return_value = httpx.Response(500)
    answer = await api.post(
        "/api/v1/vehicles",
        json={"plate": "34ABC123", "documentSerial": "AB123456", "modelYear": 2020},
        headers=CSRF,
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "vehicle_details_required"
    assert sorted(e["field"] for e in problem["errors"]) == ["brandReference", "modelTypeReference"]
    assert insurup.created_vehicles == []


async def test_unknown_utilization_or_fuel_is_refused(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v1/vehicles",
        json={
            "plate": "34ABC123",
            "documentSerial": "AB123456",
            "utilizationStyle": "SPACESHIP",
            "fuelType": "COAL",
        },
        headers=CSRF,
    )
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"utilizationStyle", "fuelType"}


async def test_vehicle_list_maps_insurup_items(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.vehicles = [
        {
            "id": VEHICLE_ID,
            "customerId": CUSTOMER_ID,
            "plate": {"city": 34, "code": "ABC123"},
            "model": {
                "brand": {"value": "052", "text": "RENAULT"},
                "year": 2021,
                "type": {"value": "052-118", "text": "CLIO"},
            },
            "utilizationStyle": "PRIVATE_CAR",
            "fuel": {"type": "GASOLINE"},
            "documentSerial": {"code": "AB", "number": "123456"},
            "somethingNew": {"ignored": True},
        }
    ]
    answer = await api.get("/api/v1/vehicles")
    assert answer.status_code == 200
    [vehicle] = answer.json()
    assert vehicle["id"] == VEHICLE_ID
    assert vehicle["plate"] == "34ABC123"
    assert vehicle["fuelType"] == "GASOLINE"


async def test_brands_are_deduplicated_and_cached_for_every_replica(
    make_app: AppFactory, api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    first = await api.get("/api/v1/vehicle-brands")
    assert first.json() == [
        {"reference": "052", "name": "RENAULT"},
        {"reference": "020", "name": "FIAT"},
    ]
    await api.get("/api/v1/vehicle-brands")
    assert insurup.router["brands"].call_count == 1
    models = await api.get("/api/v1/vehicle-models", params={"brandReference": "052", "year": 2021})
    assert models.json() == [{"reference": "052-118", "name": "CLIO"}]
    sent = insurup.router["models"].calls.last.request.url.params
    assert dict(sent) == {"brandReference": "052", "year": "2021"}


async def test_vehicle_calls_wait_for_the_case_then_go_on_without_it(
    make_app: AppFactory, insurup: FakeInsurUp
) -> None:
    insurup.router["graphql"].side_effect = httpx.ConnectError("down")
    async with make_app() as client:
        await sign_in_cookie(client)
        answer = await client.get("/api/v1/vehicles")
    assert answer.status_code == 200
    assert insurup.router["graphql"].call_count >= 2  # tried at sign-in, and again first


async def test_another_customers_car_answers_like_an_unknown_plate(
    api: httpx.AsyncClient, insurup: FakeInsurUp
) -> None:
    insurup.router["lookup"].side_effect = None
    insurup.router["lookup"].return_value = problem(
        403, "forbidden", "Bu araç başka bir müşteriye kayıtlıdır"
    )
    answer = await api.post(
        "/api/v1/vehicles/lookup",
        json={"plate": "34ABC123", "documentSerial": "AB123456"},
        headers=CSRF,
    )
    assert answer.status_code == 404
    assert answer.json()["code"] == "vehicle_not_found"
    assert "müşteri" not in answer.text
