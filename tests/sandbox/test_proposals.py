"""Kasko proposals: creation, lazy pricing over the injected clock, products, retry."""

import itertools
import re
from typing import Any

import pytest

from .conftest import ME, NO_CASES_TCKN, OPEN_KASKO_TCKN, Sandbox, SandboxFactory, assert_problem
from .flows import NARROW_GROUP, PRICING_DONE, WIDE_GROUP, pick, product_in, shopper

OBJECT_ID = re.compile(r"[0-9a-f]{24}")
FINAL = {"ACTIVE", "FAILED"}


async def test_products_start_waiting_and_are_priced_over_the_clock(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()

    created = await me.create_proposal(vehicle_id, coverageGroupIds=[WIDE_GROUP, NARROW_GROUP])

    assert created.status_code == 200, created.text
    proposal_id = created.json()["proposalId"]
    assert OBJECT_ID.fullmatch(proposal_id)
    seen: list[dict[str, str]] = []
    for _ in range(9):
        proposal = await me.proposal(proposal_id)
        seen.append({p["id"]: p["state"] for p in proposal["products"]})
        sandbox.clock.advance(0.5)
    first, last = seen[0], seen[-1]
    assert set(first.values()) == {"WAITING"}
    assert set(last.values()) <= FINAL
    assert any("WAITING" in s.values() and FINAL & set(s.values()) for s in seen)
    for earlier, later in itertools.pairwise(seen):  # never back to WAITING
        assert all(later[p] != "WAITING" for p, s in earlier.items() if s != "WAITING")
    assert sandbox.state.proposal_creations[me.customer_id] == 1


async def test_robots_are_slower_than_web_services(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal_id = (await me.create_proposal(await me.add_vehicle())).json()["proposalId"]

    sandbox.clock.advance(0.5 + 0.5 * (4.0 - 0.5))  # the middle of pricing_delay_seconds
    proposal = await me.proposal(proposal_id)

    robots = [p for p in proposal["products"] if p["productType"] == "ROBOT"]
    services = [p for p in proposal["products"] if p["productType"] == "WEB_SERVICE"]
    assert robots
    assert all(p["state"] == "WAITING" for p in robots)
    assert all(p["state"] in FINAL for p in services)


async def test_a_priced_proposal_has_the_documented_shape(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    proposal = await me.priced_proposal(coverageGroupIds=[WIDE_GROUP, NARROW_GROUP])

    assert proposal["state"] == "ACTIVE"
    assert proposal["productBranch"] == "KASKO"
    assert proposal["channel"] == "WEBSITE"
    assert proposal["insurerCustomerId"] == proposal["insuredCustomerId"] == me.customer_id
    products = proposal["products"]
    assert proposal["totalProductsCount"] == len(products) == 14
    assert len({(p["insuranceCompanyId"], p["coverageGroupId"]) for p in products}) == 14
    assert {p["coverageGroupName"] for p in products} == {"Genişletilmiş Kasko", "Dar Kasko"}
    assert {p["productType"] for p in products} == {"WEB_SERVICE", "ROBOT"}
    failed = [p for p in products if p["state"] == "FAILED"]
    active = [p for p in products if p["state"] == "ACTIVE"]
    assert failed
    assert all(p["errorMessage"] and p["premiums"] == [] for p in failed)
    assert proposal["succeedProductsCount"] == len(active) == 14 - len(failed)
    for product in active:
        assert OBJECT_ID.fullmatch(product["id"])
        assert product["errorMessage"] is None
        premiums = product["premiums"]
        assert [p["installmentNumber"] for p in premiums] == [1, 3, 6]
        gross = [p["grossPremium"] for p in premiums]
        assert gross == sorted(gross)
        assert gross[0] < gross[-1]
        assert all(8_000 <= g <= 40_000 for g in gross)
        for premium in premiums:
            assert premium["currency"] == "TURKISH_LIRA"
            assert premium["exchangeRate"] == 1
            assert premium["netPremium"] < premium["grossPremium"]
            assert premium["commission"] > 0
            assert premium["insuranceCompanyProposalNumber"]
        assert product["supportedPaymentOptions"]
        assert product["policyId"] is None
        assert product["insuranceCompanyLogo"]
        assert product["optimalCoverage"]["$type"] == "kasko"
    singles = [p["premiums"][0]["grossPremium"] for p in active]
    assert proposal["lowestPremium"] == min(singles)
    assert proposal["highestPremium"] == max(singles)
    assert proposal["snapshot"]["vehicle"]["plate"] == {"city": 34, "code": "ABC123"}
    assert proposal["snapshot"]["vehicle"]["engine"]["number"]
    assert (await me.get(ME)).json()["proposalCount"] == 1


async def test_premiums_are_deterministic_per_vehicle_and_insurer(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()

    async def premiums() -> dict[int, list[float]]:
        proposal_id = (await me.create_proposal(vehicle_id)).json()["proposalId"]
        sandbox.clock.advance(PRICING_DONE)
        products = (await me.proposal(proposal_id))["products"]
        return {
            p["insuranceCompanyId"]: [q["grossPremium"] for q in p["premiums"]]
            for p in products
            if p["state"] == "ACTIVE"
        }

    first, second = await premiums(), await premiums()

    common = set(first) & set(second)
    assert common
    assert {k: first[k] for k in common} == {k: second[k] for k in common}


@pytest.mark.parametrize(
    ("overrides", "properties"),
    [
        pytest.param({"$type": None, "type": "kasko"}, {"$type", "type"}, id="type-key"),
        pytest.param({"coverageGroupIds": [123, 124]}, None, id="integer-group-ids"),
        pytest.param({"channel": "website"}, {"channel"}, id="lowercase-channel"),
        pytest.param({"channel": "MOBILE"}, {"channel"}, id="seed-channel"),
        pytest.param(
            {"customerId": "x", "insurerCustomerId": None},
            {"customerId", "insurerCustomerId"},
            id="customerId",
        ),
        pytest.param({"productBranch": None}, {"productBranch"}, id="no-product-branch"),
        pytest.param({"coverageGroupIds": ["not-hex"]}, {"coverageGroupIds.0"}, id="bad-id"),
        pytest.param({"policyStartDate": "2020-01-01"}, {"policyStartDate"}, id="past-start"),
        pytest.param({"$type": "trafik"}, {"$type"}, id="trafik"),
    ],
)
async def test_seed_proposal_shapes_are_rejected(
    sandbox: Sandbox, overrides: dict[str, Any], properties: set[str] | None
) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()
    body = {
        "$type": "kasko",
        "productBranch": "KASKO",
        "insurerCustomerId": me.customer_id,
        "insuredCustomerId": me.customer_id,
        "vehicleId": vehicle_id,
        "coverageGroupIds": [WIDE_GROUP],
        "channel": "WEBSITE",
    }
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}

    problem = assert_problem(await me.post("/api/proposals", body), 422, "input-validation")

    names = {issue["propertyName"] for issue in problem["validationErrors"]}
    if properties is None:
        assert names == {"coverageGroupIds.0", "coverageGroupIds.1"}
    else:
        assert names == properties
    assert sandbox.state.proposals == {}


async def test_dollar_type_must_come_first(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()
    body = {
        "productBranch": "KASKO",
        "$type": "kasko",
        "insurerCustomerId": me.customer_id,
        "insuredCustomerId": me.customer_id,
        "vehicleId": vehicle_id,
        "coverageGroupIds": [WIDE_GROUP],
        "channel": "WEBSITE",
    }

    problem = assert_problem(await me.post("/api/proposals", body), 422, "input-validation")

    assert [i["propertyName"] for i in problem["validationErrors"]] == ["$type"]


async def test_optional_fields_and_unknown_group_ids(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    start = "2026-06-01"  # the ManualClock starts on 2026-05-28

    proposal = await me.priced_proposal(
        coverageGroupIds=["687A0B64DE0417B007525AAC"],
        agentBranchId="65a1b2c3d4e5f60718293a4b",
        policyStartDate=start,
        channel="MOBILE_APP",
    )

    assert proposal["channel"] == "MOBILE_APP"
    assert proposal["agentBranchId"] == "65a1b2c3d4e5f60718293a4b"
    assert proposal["policyStartDate"] == start
    assert proposal["policyEndDate"] == "2027-06-01"
    assert {p["coverageGroupId"] for p in proposal["products"]} == {"687a0b64de0417b007525aac"}


async def test_an_ad_hoc_coverage_instead_of_groups(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()
    coverage = {"$type": "kasko", "productBranch": "KASKO", "yolYardim": {"$type": "INCLUDED"}}

    created = await me.create_proposal(vehicle_id, coverageGroupIds=None, coverage=coverage)
    wrong = await me.create_proposal(
        vehicle_id, coverageGroupIds=None, coverage={"productBranch": "KASKO", "$type": "kasko"}
    )

    assert created.status_code == 200, created.text
    sandbox.clock.advance(PRICING_DONE)
    proposal = await me.proposal(created.json()["proposalId"])
    assert {p["coverageGroupId"] for p in proposal["products"]} == {None}
    assert proposal["products"][0]["initialCoverage"] == coverage
    problem = assert_problem(wrong, 422, "input-validation")
    assert [i["propertyName"] for i in problem["validationErrors"]] == ["coverage.$type"]


async def test_a_proposal_needs_coverage(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)

    response = await me.create_proposal(await me.add_vehicle(), coverageGroupIds=[])

    problem = assert_problem(response, 422, "business-validation")
    assert problem["codes"] == ["COVERAGE_REQUIRED"]


async def test_the_vehicle_and_customers_must_be_the_callers(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    mehmet = await shopper(sandbox, OPEN_KASKO_TCKN)
    his_vehicle = (await mehmet.get("/api/customers/me/vehicles")).json()[0]["id"]
    mine = await me.add_vehicle()

    foreign_vehicle = await me.create_proposal(his_vehicle)
    unknown_vehicle = await me.create_proposal("00000000-0000-0000-0000-000000000001")
    foreign_insured = await me.create_proposal(mine, insuredCustomerId=mehmet.customer_id)

    assert_problem(foreign_vehicle, 403, "access-denied")
    assert_problem(unknown_vehicle, 404, "resource-not-found")
    assert_problem(foreign_insured, 403, "access-denied")


async def test_a_customer_cannot_read_another_customers_proposal(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    emre = await shopper(sandbox, NO_CASES_TCKN)
    proposal = await me.priced_proposal()
    proposal_id = proposal["proposalId"]
    product_id = proposal["products"][0]["id"]

    for path in (
        f"/api/proposals/{proposal_id}",
        f"/api/proposals/{proposal_id}/products",
        f"/api/proposals/{proposal_id}/products/{product_id}",
        f"/api/proposals/{proposal_id}/products/{product_id}/coverage",
        f"/api/proposals/{proposal_id}/products/{product_id}/premium-detail/1",
    ):
        assert_problem(await emre.get(path), 403, "access-denied")
    assert_problem(
        await emre.get("/api/proposals/0123456789abcdef01234567"), 404, "resource-not-found"
    )
    assert_problem(await sandbox.client.get(f"/api/proposals/{proposal_id}"), 401, "unauthorized")


async def test_docs_only_product_paths_return_the_embedded_shapes(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    base = f"/api/proposals/{proposal['proposalId']}/products"
    product = proposal["products"][0]

    listed = await me.get(base)
    single = await me.get(f"{base}/{product['id']}")
    bare = await me.get(f"{base[4:]}/{product['id']}")
    missing = await me.get(f"{base}/0123456789abcdef01234567")

    assert listed.json() == proposal["products"]
    assert single.json() == product
    assert bare.json() == product
    assert_problem(missing, 404, "resource-not-found")


async def test_product_coverage_is_a_kasko_coverage_with_type_first(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal)

    response = await me.get(
        f"/api/proposals/{proposal['proposalId']}/products/{product['id']}/coverage"
    )

    coverage = response.json()["coverage"]
    assert next(iter(coverage)) == "$type"
    assert coverage["$type"] == "kasko"
    assert coverage["productBranch"] == "KASKO"
    assert coverage["immLimitiAyrimsiz"] == {"$type": "DECIMAL", "value": 1_000_000}


@pytest.mark.parametrize("variant", ["premium-detail", "premiums"])
async def test_premium_detail_has_ids_and_no_amounts(sandbox: Sandbox, variant: str) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal)
    base = f"/api/proposals/{proposal['proposalId']}/products/{product['id']}/{variant}"

    detail = (await me.get(f"{base}/3")).json()
    not_offered = await me.get(f"{base}/2")

    assert detail["proposalId"] == proposal["proposalId"]
    assert detail["proposalProductId"] == product["id"]
    assert detail["installmentNumber"] == 3
    assert detail["insurerCustomerId"] == me.customer_id
    assert detail["insuranceServicesProposalId"]
    assert detail["insuranceServicesPremiumId"]
    assert (
        detail["insuranceCompanyProposalNumber"]
        == (product["premiums"][1]["insuranceCompanyProposalNumber"])
    )
    assert not {"grossPremium", "netPremium"} & set(detail)
    assert_problem(not_offered, 404, "resource-not-found")


async def test_retry_turns_a_failed_product_into_an_active_one(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    failed = pick(proposal, state="FAILED", product_type=failed_type(proposal))
    active = pick(proposal)
    base = f"/api/proposals/{proposal['proposalId']}/products"

    def body(product_id: str) -> dict[str, str]:
        return {"proposalId": proposal["proposalId"], "proposalProductId": product_id}

    retried = await me.post(f"{base}/{failed['id']}/retry", body(failed["id"]))
    right_after = product_in(await me.proposal(proposal["proposalId"]), failed["id"])
    sandbox.clock.advance(PRICING_DONE)
    later = product_in(await me.proposal(proposal["proposalId"]), failed["id"])
    not_failed = await me.post(f"{base}/{active['id']}/retry", body(active["id"]))
    mismatch = await me.post(f"{base}/{active['id']}/retry", body(failed["id"]))

    assert retried.status_code == 204
    assert right_after["state"] == "WAITING"
    assert right_after["errorMessage"] is None
    assert later["state"] == "ACTIVE"
    assert [p["installmentNumber"] for p in later["premiums"]] == [1, 3, 6]
    assert_problem(not_failed, 409, "resource-invalid-state")
    assert_problem(mismatch, 422, "input-validation")
    assert sandbox.state.product_retries[failed["id"]] == 1


def failed_type(proposal: dict[str, Any]) -> str:
    return str(next(p["productType"] for p in proposal["products"] if p["state"] == "FAILED"))


async def test_information_form_is_a_pdf_url(sandbox: Sandbox) -> None:
    me = await shopper(sandbox)
    proposal = await me.priced_proposal()
    product = pick(proposal)
    base = f"/api/proposals/{proposal['proposalId']}/products/{product['id']}"

    form = (await me.get(f"{base}/information-form")).json()
    legacy = (await me.get(f"{base}/information-form-document")).json()
    pdf = await sandbox.client.get(form["url"])

    assert form == legacy
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


async def test_fault_knobs_cover_proposal_operations(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(error_rate={"proposal_create": 1.0})
    me = await shopper(sandbox)
    vehicle_id = await me.add_vehicle()

    failing = await me.create_proposal(vehicle_id)
    sandbox.state.faults.clear()
    created = await me.create_proposal(vehicle_id)
    sandbox.state.faults.fail_next["proposal_get"] = 1
    faulted_read = await me.get(f"/api/proposals/{created.json()['proposalId']}")

    problem = assert_problem(failing, 503, "upstream-service")
    assert problem["codes"] == ["SANDBOX_INJECTED_FAULT"]
    assert created.status_code == 200
    assert_problem(faulted_read, 503, "upstream-service")
    assert sandbox.state.injected_faults["proposal_get"] == 1
    assert sandbox.state.calls["proposal_create"] == 2
