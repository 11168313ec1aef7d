"""The sandbox's small GraphQL front end: parser units and endpoint error behaviour."""

from typing import Any

import pytest

from app.sandbox.graphql import EnumValue, GraphQLError, Variable, parse_query

from .conftest import DEMO_TCKN, GRAPHQL, Sandbox, SandboxFactory, assert_problem, bearer

# --- parser units ---------------------------------------------------------------------------


def test_parses_the_seed_query_shape() -> None:
    operation = parse_query(
        """
        # leading comment
        query CheckCases($id: UUID!, $take: Int = 100) {
          cases(skip: 0, take: $take, where: {customerId: {eq: $id}, status: {in: [OPEN, DELAYED]}},
                order: [{createdAt: DESC}]) {
            totalCount
            list: items { id, productBranch }
          }
        }
        """
    )

    assert operation.name == "CheckCases"
    assert operation.variables["id"].non_null
    assert operation.variables["take"].default == 100
    [cases] = operation.selections
    assert cases.name == "cases"
    assert cases.arguments == {
        "skip": 0,
        "take": Variable("take"),
        "where": {
            "customerId": {"eq": Variable("id")},
            "status": {"in": [EnumValue("OPEN"), EnumValue("DELAYED")]},
        },
        "order": [{"createdAt": EnumValue("DESC")}],
    }
    assert [f.response_key for f in cases.selections] == ["totalCount", "list"]
    assert [f.name for f in cases.selections[1].selections] == ["id", "productBranch"]


def test_parses_every_literal_kind() -> None:
    operation = parse_query(
        r'{ f(a: -1, b: 2.5e3, c: "q\"\u00e7\n", d: true, e: false, g: null, h: [], i: {}) { x } }'
    )

    assert operation.selections[0].arguments == {
        "a": -1,
        "b": 2500.0,
        "c": 'q"ç\n',
        "d": True,
        "e": False,
        "g": None,
        "h": [],
        "i": {},
    }


@pytest.mark.parametrize(
    ("source", "fragment_of_message"),
    [
        ("", "must start"),
        ("  # only a comment", "must start"),
        ("{ cases { totalCount }", "expected"),
        ("{ cases { } }", "expected a field"),
        ('{ cases(where: { customerId: { eq: "x } }) { totalCount } }', "unexpected character"),
        ("{ cases(take: 10abc) { totalCount } }", "invalid number"),
        ("mutation { createCase { id } }", "queries only"),
        ("subscription { events { id } }", "queries only"),
        ("fragment F on Case { id } { cases { items { ...F } } }", "Fragments"),
        ("{ cases { items { ...F } } }", "Fragments"),
        ("{ cases @include(if: true) { totalCount } }", "Directives"),
        ("{ a { b } } { c { d } }", "one operation"),
        ("query A { a { b } } query B { c { d } }", "one operation"),
        ('{ cases(x: """block""") { totalCount } }', "Block strings"),
        ("{ cases(take: 1, take: 2) { totalCount } }", "twice"),
        ("query ($t: Int = $u) { cases(take: $t) { totalCount } }", "default values"),
        ("cases { totalCount }", "must start"),
    ],
)
def test_rejects_what_it_does_not_support(source: str, fragment_of_message: str) -> None:
    with pytest.raises(GraphQLError) as info:
        parse_query(source)

    assert fragment_of_message in info.value.message
    assert info.value.code == "BAD_REQUEST"


# --- endpoint errors ----------------------------------------------------------------------


def bad_request_message(response: Any) -> str:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    message: str = error["message"]
    return message


@pytest.mark.parametrize(
    ("query", "variables", "fragment_of_message"),
    [
        ("{ cases { totalCount", None, "Syntax error"),
        ("{ customers { totalCount } }", None, "does not exist on the type Query"),
        ("{ casesNew { totalCount } }", None, "does not exist on the type Query"),
        ("{ cases { items { id premium } } }", None, "'premium' does not exist"),
        ("{ cases { items } }", None, "selection of sub-fields"),
        ("{ cases { totalCount { x } } }", None, "leaf"),
        ("{ cases(first: 10) { totalCount } }", None, "argument 'first'"),
        ('{ cases(where: { status: { eq: "OPEN" } }) { totalCount } }', None, "CaseStatus"),
        ("{ cases(where: { status: { eq: CLOSED_WON } }) { totalCount } }", None, "CaseStatus"),
        ("{ cases(where: { productBranch: { like: KASKO } }) { totalCount } }", None, "'like'"),
        ("{ cases(where: { premium: { eq: 1 } }) { totalCount } }", None, "'premium'"),
        ('{ cases(where: { customerId: { eq: "not-a-guid" } }) { totalCount } }', None, "UUID"),
        ("{ cases(where: { customerId: { eq: 1 } }) { totalCount } }", None, "UUID"),
        ("{ cases(take: 101) { totalCount } }", None, "maximum"),
        ("{ cases(skip: -1) { totalCount } }", None, "negative"),
        ('{ cases(take: "10") { totalCount } }', None, "Int"),
        ("{ cases(order: { createdAt: DOWN }) { totalCount } }", None, "SortEnumType"),
        ("{ cases(take: $t) { totalCount } }", None, "not declared"),
        ("query ($t: Int!) { cases(take: $t) { totalCount } }", {}, "non-null"),
        (
            "query ($w: CaseFilterInput) { cases(where: $w) { totalCount } }",
            {"w": {"status": {"eq": "open"}}},
            "CaseStatus",
        ),
        (
            "query ($w: CaseFilterInput) { cases(where: $w) { totalCount } }",
            {"w": "status = OPEN"},
            "CaseFilterInput",
        ),
    ],
)
async def test_invalid_queries_are_200_with_bad_request_errors(
    sandbox: Sandbox, query: str, variables: dict[str, Any] | None, fragment_of_message: str
) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)

    response = await sandbox.graphql(query, tokens["accessToken"], variables)

    assert fragment_of_message in bad_request_message(response)


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"variables": {}}',
        b'{"query": ""}',
        b'{"query": "{ cases { totalCount } }", "variables": []}',
        b'{"query": "{ cases { totalCount } }", "operationName": "Other"}',
    ],
)
async def test_malformed_requests_are_200_with_bad_request_errors(
    sandbox: Sandbox, body: bytes
) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)
    headers = {**bearer(tokens["accessToken"]), "Content-Type": "application/json"}

    response = await sandbox.client.post(GRAPHQL, content=body, headers=headers)

    bad_request_message(response)


async def test_missing_or_expired_token_is_200_unauthorized(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)
    sandbox.clock.advance(600)

    for token in (None, tokens["accessToken"], "garbage"):
        response = await sandbox.graphql("{ cases { totalCount } }", token)

        assert response.status_code == 200
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "UNAUTHORIZED"


async def test_unauthorized_can_be_an_http_401_problem(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(graphql_unauthorized_status=401)

    response = await sandbox.graphql("{ cases { totalCount } }", None)

    assert_problem(response, 401, "unauthorized")


async def test_typename_and_operation_name(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens(DEMO_TCKN)

    response = await sandbox.client.post(
        GRAPHQL,
        json={"query": "query Q { __typename cases { totalCount } }", "operationName": "Q"},
        headers=bearer(tokens["accessToken"]),
    )

    assert response.json() == {"data": {"__typename": "Query", "cases": {"totalCount": 2}}}
