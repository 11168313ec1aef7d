"""Sale-opportunity cases: legacy GraphQL `cases` and `POST /api/cases:new-sale-opportunity`."""

import re
from typing import Any

import pytest

from .conftest import (
    DELAYED_KASKO_TCKN,
    DEMO_TCKN,
    FRESH_TCKN,
    NEW_CASE,
    NO_CASES_TCKN,
    OPEN_KASKO_TCKN,
    OTHER_FRESH_TCKN,
    Sandbox,
    SandboxFactory,
    assert_problem,
    bearer,
)

SEED_QUERY = """
query {
  cases(
    skip: 0
    take: 100
    where: {
      customerId: { eq: "%s" }
      status: { eq: OPEN }
      type: { eq: SALE_OPPORTUNITY }
      productBranch: { eq: KASKO }
    }
    order: { createdAt: DESC }
  ) {
    totalCount
    items { productBranch type status }
  }
}
"""

ALL_FIELDS = "id ref type status mainState subState productBranch channel customerId createdAt"


def cases_of(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    cases: dict[str, Any] = body["data"]["cases"]
    return cases


async def test_seed_query_finds_the_open_kasko_case(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(OPEN_KASKO_TCKN)

    cases = cases_of(
        await sandbox.graphql(SEED_QUERY % tokens["customerId"], tokens["accessToken"])
    )

    assert cases == {
        "totalCount": 1,
        "items": [{"productBranch": "KASKO", "type": "SALE_OPPORTUNITY", "status": "OPEN"}],
    }


async def test_seed_query_ignores_the_demo_customers_trafik_and_closed_kasko_cases(
    sandbox: Sandbox,
) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)

    cases = cases_of(
        await sandbox.graphql(SEED_QUERY % tokens["customerId"], tokens["accessToken"])
    )

    assert cases == {"totalCount": 0, "items": []}


@pytest.mark.parametrize(
    ("where", "expected_branches_and_statuses"),
    [
        ("{}", [("TRAFIK", "OPEN"), ("KASKO", "SUCCESS")]),
        ("{ status: { eq: OPEN } }", [("TRAFIK", "OPEN")]),
        ("{ productBranch: { eq: KASKO } }", [("KASKO", "SUCCESS")]),
        ("{ productBranch: { in: [KASKO, TRAFIK] } }", [("TRAFIK", "OPEN"), ("KASKO", "SUCCESS")]),
        ("{ status: { in: [OPEN, DELAYED] }, productBranch: { eq: KASKO } }", []),
        ("{ status: { neq: OPEN } }", [("KASKO", "SUCCESS")]),
        ("{ productBranch: { nin: [KASKO] } }", [("TRAFIK", "OPEN")]),
        ("{ type: { eq: COMPLAINT } }", []),
        ("{ productBranch: { eq: null } }", []),
        ("{ status: null }", [("TRAFIK", "OPEN"), ("KASKO", "SUCCESS")]),
    ],
)
async def test_filters_on_the_demo_customer(
    sandbox: Sandbox, where: str, expected_branches_and_statuses: list[tuple[str, str]]
) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)
    query = (
        f"{{ cases(where: {where}, order: {{ createdAt: DESC }}) "
        "{ totalCount items { productBranch status } } }"
    )

    cases = cases_of(await sandbox.graphql(query, tokens["accessToken"]))

    got = [(item["productBranch"], item["status"]) for item in cases["items"]]
    assert got == expected_branches_and_statuses
    assert cases["totalCount"] == len(expected_branches_and_statuses)


async def test_filters_and_paging_through_variables(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)
    query = """
      query Check($where: CaseFilterInput, $take: Int = 1, $skip: Int!) {
        cases(skip: $skip, take: $take, where: $where, order: [{ createdAt: ASC }]) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage }
          items { productBranch status }
        }
      }
    """
    variables = {
        "skip": 0,
        "where": {
            "customerId": {"eq": tokens["customerId"].upper()},
            "status": {"in": ["OPEN", "SUCCESS"]},
        },
    }

    first = cases_of(await sandbox.graphql(query, tokens["accessToken"], variables))
    second = cases_of(await sandbox.graphql(query, tokens["accessToken"], {**variables, "skip": 1}))

    assert first == {
        "totalCount": 2,
        "pageInfo": {"hasNextPage": True, "hasPreviousPage": False},
        "items": [{"productBranch": "KASKO", "status": "SUCCESS"}],
    }
    assert second["items"] == [{"productBranch": "TRAFIK", "status": "OPEN"}]
    assert second["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True}


async def test_returns_exactly_the_requested_fields(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DELAYED_KASKO_TCKN)
    query = (
        "{ mine: cases { __typename count: totalCount "
        f"items {{ {ALL_FIELDS} branch: productBranch }} }} }}"
    )

    body = (await sandbox.graphql(query, tokens["accessToken"])).json()

    segment = body["data"]["mine"]
    assert segment["count"] == 1
    assert segment["__typename"]
    [item] = segment["items"]
    assert list(item) == [*ALL_FIELDS.split(), "branch"]
    assert re.fullmatch(r"[0-9a-f]{24}", item["id"])
    assert re.fullmatch(r"SF-\d{4}-\d{6}", item["ref"])
    assert item["status"] == "DELAYED"
    assert item["mainState"] == "OPEN"
    assert item["subState"] == "OPEN_DELAYED"
    assert item["channel"] == "CALL_CENTER"
    assert item["customerId"] == tokens["customerId"]
    assert item["branch"] == "KASKO"


async def test_a_customer_only_sees_their_own_cases(sandbox: Sandbox) -> None:
    demo = await sandbox.tokens(DEMO_TCKN)
    other = await sandbox.tokens(OPEN_KASKO_TCKN)
    query = '{ cases(where: { customerId: { eq: "%s" } }) { totalCount items { customerId } } }'

    peeking = cases_of(await sandbox.graphql(query % other["customerId"], demo["accessToken"]))
    unfiltered = cases_of(
        await sandbox.graphql("{ cases { items { customerId } } }", demo["accessToken"])
    )

    assert peeking == {"totalCount": 0, "items": []}
    assert {item["customerId"] for item in unfiltered["items"]} == {demo["customerId"]}


async def test_graphql_is_served_at_both_paths(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)
    body = {"query": "{ cases { totalCount } }"}

    for path in ("/graphql", "/api/graphql"):
        response = await sandbox.client.post(path, json=body, headers=bearer(tokens["accessToken"]))
        assert response.json() == {"data": {"cases": {"totalCount": 2}}}
    assert sandbox.state.calls["cases_query"] == 2


# --- creation -----------------------------------------------------------------------------


async def test_create_returns_a_bare_object_id_string_and_the_case_is_queryable(
    sandbox: Sandbox,
) -> None:
    tokens = await sandbox.tokens(FRESH_TCKN)
    body = {
        "customerId": tokens["customerId"],
        "assetType": None,
        "assetId": None,
        "productBranch": "KASKO",
        "channel": "WEBSITE",
    }

    response = await sandbox.client.post(NEW_CASE, json=body, headers=bearer(tokens["accessToken"]))

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    case_id = response.json()
    assert isinstance(case_id, str)
    assert re.fullmatch(r"[0-9a-f]{24}", case_id)
    assert sandbox.state.case_creations[tokens["customerId"]] == 1

    query = SEED_QUERY.replace("items { productBranch type status }", f"items {{ {ALL_FIELDS} }}")
    cases = cases_of(await sandbox.graphql(query % tokens["customerId"], tokens["accessToken"]))
    [item] = cases["items"]
    assert item["id"] == case_id
    assert item["status"] == "OPEN"
    assert item["mainState"] == "OPEN"
    assert item["type"] == "SALE_OPPORTUNITY"
    assert item["channel"] == "WEBSITE"
    assert re.fullmatch(r"SF-\d{4}-\d{6}", item["ref"])


async def test_minimal_body_and_counter_per_customer(sandbox: Sandbox) -> None:
    one = await sandbox.tokens(FRESH_TCKN)
    two = await sandbox.tokens(OTHER_FRESH_TCKN)

    for tokens, times in ((one, 2), (two, 1)):
        for _ in range(times):
            response = await sandbox.client.post(
                NEW_CASE,
                json={"customerId": tokens["customerId"], "productBranch": "KASKO"},
                headers=bearer(tokens["accessToken"]),
            )
            assert response.status_code == 200

    assert sandbox.state.case_creations[one["customerId"]] == 2
    assert sandbox.state.case_creations[two["customerId"]] == 1
    assert sandbox.state.calls["case_create"] == 3


async def test_colon_path_variants_route_to_case_creation(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(NO_CASES_TCKN)
    body = {"customerId": tokens["customerId"], "productBranch": "TRAFIK", "channel": "MOBILE_APP"}

    paths = [
        "/api/cases:new-sale-opportunity",
        "/cases:new-sale-opportunity",
        "/api/cases%3Anew-sale-opportunity",
    ]
    for path in paths:
        response = await sandbox.client.post(path, json=body, headers=bearer(tokens["accessToken"]))
        assert response.status_code == 200, (path, response.text)

    assert sandbox.state.case_creations[tokens["customerId"]] == 3
    near_miss = await sandbox.client.post("/api/cases/new-sale-opportunity", json=body)
    assert_problem(near_miss, 404, "endpoint-not-found")


async def test_creating_for_another_customer_is_access_denied(sandbox: Sandbox) -> None:
    demo = await sandbox.tokens(DEMO_TCKN)
    other = await sandbox.tokens(OPEN_KASKO_TCKN)

    response = await sandbox.client.post(
        NEW_CASE,
        json={"customerId": other["customerId"], "productBranch": "KASKO"},
        headers=bearer(demo["accessToken"]),
    )

    assert_problem(response, 403, "access-denied")
    assert sandbox.state.case_creations[demo["customerId"]] == 0
    assert sandbox.state.case_creations[other["customerId"]] == 0


async def test_creating_requires_a_valid_token(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(access_token_seconds=30)
    tokens = await sandbox.tokens(DEMO_TCKN)
    body = {"customerId": tokens["customerId"], "productBranch": "KASKO"}
    sandbox.clock.advance(30)

    missing = await sandbox.client.post(NEW_CASE, json=body)
    expired = await sandbox.client.post(NEW_CASE, json=body, headers=bearer(tokens["accessToken"]))

    assert_problem(missing, 401, "unauthorized")
    assert_problem(expired, 401, "unauthorized")
    assert sum(sandbox.state.case_creations.values()) == 0
