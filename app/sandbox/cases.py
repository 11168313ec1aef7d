"""Sale-opportunity cases (reference section 3): the legacy GraphQL `cases` root and
`POST /api/cases:new-sale-opportunity`."""

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from .auth import authenticate
from .config import Operation
from .enums import (
    AssetType,
    CaseMainState,
    CaseStatus,
    CaseSubState,
    CaseType,
    Channel,
    ProductBranch,
)
from .faults import inject_faults
from .graphql import (
    INT,
    STRING,
    UUID_TYPE,
    EnumType,
    FieldNode,
    GraphQLError,
    InputObjectType,
    InputType,
    ListType,
    RootField,
    Variables,
    coerce_arguments,
    select_object,
)
from .problems import ProblemError
from .state import Case, Customer, SandboxState, iso_datetime
from .validation import Guid, WireModel, parse_body, read_json_object

DEFAULT_TAKE = 10
"""HotChocolate's default page size when `take` is omitted."""
MAX_TAKE = 100
"""Largest `take` the sandbox accepts (the reference site asks for 100; the real cap is unknown)."""

# --- GraphQL schema of the legacy `cases` root -----------------------------------------


def _enum_type(name: str, enum: type[StrEnum]) -> EnumType:
    return EnumType(name, frozenset(member.value for member in enum))


def _operation_filter(name: str, scalar: InputType) -> InputObjectType:
    return InputObjectType(
        name,
        {"eq": scalar, "neq": scalar, "in": ListType(scalar), "nin": ListType(scalar)},
    )


# field name -> (filter input type, value getter)
_FILTERABLE: dict[str, tuple[InputObjectType, Callable[[Case], str]]] = {
    "id": (_operation_filter("StringOperationFilterInput", STRING), lambda c: c.id),
    "ref": (_operation_filter("StringOperationFilterInput", STRING), lambda c: c.ref),
    "customerId": (
        _operation_filter("UuidOperationFilterInput", UUID_TYPE),
        lambda c: c.customer_id,
    ),
    "type": (
        _operation_filter("CaseTypeOperationFilterInput", _enum_type("CaseType", CaseType)),
        lambda c: c.type.value,
    ),
    "status": (
        _operation_filter("CaseStatusOperationFilterInput", _enum_type("CaseStatus", CaseStatus)),
        lambda c: c.status.value,
    ),
    "mainState": (
        _operation_filter(
            "CaseMainStateOperationFilterInput", _enum_type("CaseMainState", CaseMainState)
        ),
        lambda c: c.main_state.value,
    ),
    "subState": (
        _operation_filter(
            "CaseSubStateOperationFilterInput", _enum_type("CaseSubState", CaseSubState)
        ),
        lambda c: c.sub_state.value,
    ),
    "productBranch": (
        _operation_filter(
            "ProductBranchOperationFilterInput", _enum_type("ProductBranch", ProductBranch)
        ),
        lambda c: c.product_branch.value,
    ),
    "channel": (
        _operation_filter("ChannelOperationFilterInput", _enum_type("Channel", Channel)),
        lambda c: c.channel.value,
    ),
}

CASE_FILTER_INPUT = InputObjectType(
    "CaseFilterInput", {name: filter_type for name, (filter_type, _) in _FILTERABLE.items()}
)

_SORT_ENUM = EnumType("SortEnumType", frozenset({"ASC", "DESC"}))

# field name -> sort key
_SORTABLE: dict[str, Callable[[Case], Any]] = {
    "createdAt": lambda c: c.created_at,
    "id": lambda c: c.id,
    "ref": lambda c: c.ref,
    "customerId": lambda c: c.customer_id,
    "type": lambda c: c.type.value,
    "status": lambda c: c.status.value,
    "mainState": lambda c: c.main_state.value,
    "subState": lambda c: c.sub_state.value,
    "productBranch": lambda c: c.product_branch.value,
    "channel": lambda c: c.channel.value,
}

CASE_SORT_INPUT = InputObjectType("CaseSortInput", dict.fromkeys(_SORTABLE, _SORT_ENUM))

CASES_ARGUMENTS: Mapping[str, InputType] = {
    "skip": INT,
    "take": INT,
    "where": CASE_FILTER_INPUT,
    "order": ListType(CASE_SORT_INPUT),
}

# Output: the fields of a `cases` item the sandbox can return.
CASE_ITEM_FIELDS: Mapping[str, Callable[[Case], object]] = {
    "id": lambda c: c.id,
    "ref": lambda c: c.ref,
    "type": lambda c: c.type.value,
    "status": lambda c: c.status.value,
    "mainState": lambda c: c.main_state.value,
    "subState": lambda c: c.sub_state.value,
    "productBranch": lambda c: c.product_branch.value,
    "channel": lambda c: c.channel.value,
    "customerId": lambda c: c.customer_id,
    "createdAt": lambda c: iso_datetime(c.created_at),
}


def _matches(case: Case, where: Mapping[str, Any] | None) -> bool:
    for field_name, operations in (where or {}).items():
        if operations is None:
            continue
        value = _FILTERABLE[field_name][1](case)
        for operator, operand in operations.items():
            if operator == "eq" and value != operand:
                return False
            if operator == "neq" and value == operand:
                return False
            if operator == "in" and operand is not None and value not in operand:
                return False
            if operator == "nin" and operand is not None and value in operand:
                return False
    return True


def _sorted(cases: list[Case], order: list[Mapping[str, str | None] | None] | None) -> list[Case]:
    keys = [(name, direction) for item in order or [] for name, direction in (item or {}).items()]
    result = list(cases)
    for name, direction in reversed(keys):
        if direction is None:
            continue
        result.sort(key=_SORTABLE[name], reverse=direction == "DESC")
    return result


ITEM_TYPE_WITHOUT_ID = "CaseListItem"
"""The item type's name in the variant without `id` (`legacy_cases_id_field=False`)."""
FIELD_DOES_NOT_EXIST = "HC0020"
"""Hot Chocolate's validation code for a selected field the type does not have."""


def _case_item(state: SandboxState, case: Case, node: FieldNode) -> dict[str, object]:
    scalars = {name: (lambda get=get: get(case)) for name, get in CASE_ITEM_FIELDS.items()}
    type_name = "Case"
    if not state.config.legacy_cases_id_field:
        type_name = ITEM_TYPE_WITHOUT_ID
        del scalars["id"]
    return select_object(type_name, node.selections, scalars)


def validate_cases(state: SandboxState, node: FieldNode) -> None:
    """The variant without `id` on items: selecting it is a validation error, reported like
    Hot Chocolate does (HTTP 200, `errors` only, code HC0020)."""
    if state.config.legacy_cases_id_field:
        return
    for items in (s for s in node.selections if s.name == "items"):
        for selected in items.selections:
            if selected.name == "id":
                raise GraphQLError(
                    f"The field `id` does not exist on the type `{ITEM_TYPE_WITHOUT_ID}`.",
                    code=FIELD_DOES_NOT_EXIST,
                    path=[node.response_key],
                    locations=[] if selected.location is None else [selected.location],
                )


def resolve_cases(
    state: SandboxState, customer: Customer, node: FieldNode, variables: Variables
) -> dict[str, object]:
    """`cases(skip, take, where, order) { totalCount items { ... } pageInfo { ... } }`.

    Only the token's customer's cases are visible, whatever `customerId` the filter names.
    """
    arguments = coerce_arguments(node, CASES_ARGUMENTS, variables)
    skip = arguments.get("skip")
    take = arguments.get("take")
    skip = 0 if skip is None else skip
    take = DEFAULT_TAKE if take is None else take
    if skip < 0 or take < 0:
        raise GraphQLError("'skip' and 'take' must not be negative.", path=[node.response_key])
    if take > MAX_TAKE:
        raise GraphQLError(
            f"The maximum allowed items per page were exceeded (take <= {MAX_TAKE}).",
            path=[node.response_key],
        )
    visible = [c for c in state.cases_of(customer.id) if _matches(c, arguments.get("where"))]
    ordered = _sorted(visible, arguments.get("order"))
    page = ordered[skip : skip + take]

    def items(items_node: FieldNode) -> list[dict[str, object]]:
        return [_case_item(state, case, items_node) for case in page]

    def page_info(info_node: FieldNode) -> dict[str, object]:
        return select_object(
            "CollectionSegmentInfo",
            info_node.selections,
            {
                "hasNextPage": lambda: skip + take < len(ordered),
                "hasPreviousPage": lambda: skip > 0,
            },
        )

    return select_object(
        "CasesCollectionSegment",
        node.selections,
        {"totalCount": lambda: len(ordered)},
        {"items": items, "pageInfo": page_info},
    )


CASES_ROOT = RootField(Operation.CASES_QUERY, resolve_cases, validate_cases)


# --- REST: cases:new-sale-opportunity ------------------------------------------------


class NewSaleOpportunityBody(WireModel):
    customer_id: Guid = Field(alias="customerId")
    asset_type: AssetType | None = Field(default=None, alias="assetType")
    asset_id: Guid | None = Field(default=None, alias="assetId")
    product_branch: ProductBranch = Field(alias="productBranch")
    channel: Channel | None = None
    agent_branch_id: str | None = Field(default=None, alias="agentBranchId", strict=True)


def build_cases_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["cases"])

    @router.post("/cases:new-sale-opportunity")
    async def new_sale_opportunity(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.CASE_CREATE)
        customer = authenticate(state, request)
        body = parse_body(NewSaleOpportunityBody, await read_json_object(request))
        if body.customer_id != customer.id:
            raise ProblemError.access_denied(
                "A customer may only open sale opportunities for themselves."
            )
        case = state.add_case(
            customer_id=customer.id,
            product_branch=body.product_branch,
            channel=body.channel or Channel.UNKNOWN,
            asset_type=body.asset_type,
            asset_id=body.asset_id,
            agent_branch_id=body.agent_branch_id or customer.agent_branch_id,
        )
        state.case_creations[customer.id] += 1
        # The SDK contract: the body is the case id as a bare JSON string.
        return JSONResponse(case.id)

    return router
