"""`legacy_cases_id_field`: the legacy `cases` items with or without an `id` field."""

import re

import pytest

from .conftest import OPEN_KASKO_TCKN, Sandbox, SandboxFactory
from .test_cases import SEED_QUERY, cases_of

WITH_ID = """query Check {
  cases(take: 10) {
    totalCount
    items {
      productBranch
      id
    }
  }
}"""

HC0020 = {
    "message": "The field `id` does not exist on the type `CaseListItem`.",
    "locations": [{"line": 6, "column": 7}],
    "path": ["cases"],
    "extensions": {"code": "HC0020"},
}


async def test_by_default_items_have_an_id(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(OPEN_KASKO_TCKN)

    body = cases_of(await sandbox.graphql(WITH_ID, tokens["accessToken"]))

    assert body["items"] == [{"productBranch": "KASKO", "id": "665f00000000000000000003"}]


async def test_without_id_selecting_it_is_hot_chocolates_hc0020(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(legacy_cases_id_field=False)
    tokens = await sandbox.tokens(OPEN_KASKO_TCKN)

    response = await sandbox.graphql(WITH_ID, tokens["accessToken"])

    assert response.status_code == 200
    assert response.json() == {"errors": [HC0020]}  # no `data` at all
    assert sandbox.state.graphql_errors["HC0020"] == 1
    assert sandbox.state.calls["cases_query"] == 0  # a validation error never executes


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("{ cases { items { id } } }", {"line": 1, "column": 19}),
        ("{ cases { items { caseId: id status } } }", {"line": 1, "column": 19}),
        ("{ mine: cases { totalCount items { status id } } }", {"line": 1, "column": 43}),
    ],
)
async def test_any_selection_of_id_on_items_fails(
    make_sandbox: SandboxFactory, query: str, location: dict[str, int]
) -> None:
    sandbox = await make_sandbox(legacy_cases_id_field=False)
    tokens = await sandbox.tokens(OPEN_KASKO_TCKN)

    body = (await sandbox.graphql(query, tokens["accessToken"])).json()

    [error] = body["errors"]
    assert "data" not in body
    assert error["extensions"] == {"code": "HC0020"}
    assert error["locations"] == [location]
    assert error["path"] == ["mine" if query.startswith("{ mine") else "cases"]


async def test_validation_comes_before_authentication(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(legacy_cases_id_field=False)

    body = (await sandbox.graphql("{ cases { items { id } } }", None)).json()

    assert body["errors"][0]["extensions"]["code"] == "HC0020"


async def test_queries_without_id_work_in_the_variant(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(legacy_cases_id_field=False)
    tokens = await sandbox.tokens(OPEN_KASKO_TCKN)
    fields = "ref type status mainState subState productBranch channel customerId createdAt"

    seed = cases_of(await sandbox.graphql(SEED_QUERY % tokens["customerId"], tokens["accessToken"]))
    everything = cases_of(
        await sandbox.graphql(
            f"{{ cases {{ totalCount items {{ __typename {fields} }} }} }}", tokens["accessToken"]
        )
    )

    assert seed == {
        "totalCount": 1,
        "items": [{"productBranch": "KASKO", "type": "SALE_OPPORTUNITY", "status": "OPEN"}],
    }
    [item] = everything["items"]
    assert item["__typename"] == "CaseListItem"
    assert list(item) == ["__typename", *fields.split()]
    assert re.fullmatch(r"SF-\d{4}-\d{6}", item["ref"])
