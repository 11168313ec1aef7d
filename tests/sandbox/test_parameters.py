"""Reference data: vehicle brands and models, coverage choices, insurance companies."""

import pytest

from .conftest import Sandbox, assert_problem
from .flows import shopper


async def test_brands_are_value_text_pairs(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    brands = (await me.get("/api/vehicle-parameters/brands")).json()

    assert {"value": "052", "text": "RENAULT"} in brands
    assert {b["text"] for b in brands} >= {"FIAT", "TOYOTA", "VOLKSWAGEN", "HYUNDAI", "FORD"}
    assert all(set(b) == {"value", "text"} for b in brands)


async def test_models_depend_on_brand_and_year(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    async def models(brand: str, year: int | None = None) -> list[dict[str, str]]:
        params: dict[str, str | int] = {"brandReference": brand}
        if year is not None:
            params["year"] = year
        response = await me.get("/vehicle-parameters/models", params=params)
        assert response.status_code == 200, response.text
        found: list[dict[str, str]] = response.json()
        return found

    renault_2021 = await models("052", 2021)
    renault_2014 = await models("052", 2014)

    assert {"value": "052101", "text": "CLIO 1.0 TCe Joy"} in renault_2021
    assert all(m["value"] != "052101" for m in renault_2014)
    assert len(await models("052")) >= len(renault_2021)
    assert await models("999", 2021) == []


@pytest.mark.parametrize("params", [{"brandReference": "052", "year": "twenty"}, {"year": "2021"}])
async def test_models_query_errors_are_400(sandbox: Sandbox, params: dict[str, str]) -> None:
    me = await shopper(sandbox)

    response = await me.get("/api/vehicle-parameters/models", params=params)

    assert_problem(response, 400, "input-validation")


async def test_coverage_choices_are_per_product(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    plain = await me.get("/api/coverage-choices:kasko")
    private_car = await me.get("/api/coverage-choices:kasko?vehicleUtilizationStyle=1")

    assert plain.status_code == private_car.status_code == 200
    entries = plain.json()
    assert len({e["productId"] for e in entries}) == len(entries) >= 5
    assert {e["productType"] for e in entries} == {"WEB_SERVICE", "ROBOT"}
    choices = entries[0]["coverageChoices"]
    assert {"$type": "DECIMAL", "value": 1_000_000} in choices["immLimitiAyrimsiz"]
    assert "ORIJINAL_PARCA" in choices["yedekParcaTuru"]
    assert all(len(bundle) == 3 for bundle in choices["ferdiKazaBundle"])
    assert private_car.json() == entries


@pytest.mark.parametrize("value", ["PRIVATE_CAR", "1.5", "99"])
async def test_coverage_choices_want_an_integer_ordinal(sandbox: Sandbox, value: str) -> None:
    me = await shopper(sandbox)

    response = await me.get(f"/api/coverage-choices:kasko?vehicleUtilizationStyle={value}")

    assert_problem(response, 400, "input-validation")


async def test_insurance_companies_follow_the_payment_table(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    companies = {c["name"]: c for c in (await me.get("/api/insurance-companies")).json()}

    assert companies["Anadolu Sigorta"]["id"] == 7
    assert companies["Doğa Sigorta"]["id"] == 43
    doga = set(companies["Doğa Sigorta"]["supportedPaymentOptions"])
    anadolu = set(companies["Anadolu Sigorta"]["supportedPaymentOptions"])
    assert "ASYNC_3D_SECURE" in doga
    assert "ASYNC_INSURANCE_COMPANY_REDIRECT" not in doga
    assert "ASYNC_INSURANCE_COMPANY_REDIRECT" in anadolu
    assert "ASYNC_3D_SECURE" not in anadolu
    logo = await sandbox.client.get(companies["AXA Sigorta"]["logo"])
    assert logo.status_code == 200
    assert logo.headers["content-type"].startswith("image/svg+xml")
    assert logo.text.startswith("<svg")


@pytest.mark.parametrize(
    "path",
    [
        "/api/vehicle-parameters/brands",
        "/api/vehicle-parameters/models?brandReference=052",
        "/api/coverage-choices:kasko",
        "/insurance-companies",
    ],
)
async def test_reference_data_needs_a_token(sandbox: Sandbox, path: str) -> None:
    assert_problem(await sandbox.client.get(path), 401, "unauthorized")
