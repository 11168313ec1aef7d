"""A deliberately small GraphQL front end: just enough of the language for the queries the
gateway sends (reference sections 3.1 and 10.2), no GraphQL library.

Supported: one `query` operation (named or anonymous) with variable definitions and
defaults, fields with aliases and arguments, nested selection sets, every literal kind
(Int, Float, String, Boolean, null, enum, list, object) and `$variables`. Not supported
(rejected with `BAD_REQUEST`): mutations, subscriptions, fragments, directives, block strings,
several operations in one document.

Input coercion is schema-driven (`InputType`); like a real server it rejects a quoted
string where an enum literal is expected (`status: { eq: "OPEN" }`), while variables carry
enums as JSON strings. Declared variable types are not checked beyond `!`.

GraphQL answers HTTP 200 with `{"errors": [...]}` for every GraphQL-level failure.
"""

import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .auth import authenticate
from .config import Operation
from .faults import inject_faults
from .problems import ProblemError
from .state import Customer, SandboxState

# --- errors ------------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """1-based line and column of a node in the query document."""

    line: int
    column: int

    def to_json(self) -> dict[str, int]:
        return {"line": self.line, "column": self.column}


class GraphQLError(Exception):
    def __init__(
        self,
        message: str,
        code: str = "BAD_REQUEST",
        path: Sequence[str | int] | None = None,
        locations: Sequence[Location] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = list(path) if path else None
        self.locations = list(locations)

    def to_json(self) -> dict[str, object]:
        error: dict[str, object] = {"message": self.message}
        if self.locations:
            error["locations"] = [location.to_json() for location in self.locations]
        if self.path:
            error["path"] = self.path
        error["extensions"] = {"code": self.code}
        return error


def errors_response(*errors: GraphQLError, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"errors": [e.to_json() for e in errors]}, status_code=status_code)


# --- syntax tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str


@dataclass(frozen=True)
class EnumValue:
    name: str


# int | float | str | bool | None | EnumValue | Variable | list[...] | dict[str, ...]
ValueNode = Any


@dataclass(frozen=True)
class FieldNode:
    name: str
    alias: str | None = None
    arguments: Mapping[str, ValueNode] = field(default_factory=dict)
    selections: tuple["FieldNode", ...] = ()
    location: Location | None = field(default=None, compare=False)
    """Where the field (its alias, if any) starts in the document."""

    @property
    def response_key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class VariableDefinition:
    name: str
    non_null: bool
    default: ValueNode = None
    has_default: bool = False


@dataclass(frozen=True)
class OperationNode:
    name: str | None
    variables: Mapping[str, VariableDefinition]
    selections: tuple[FieldNode, ...]


# --- lexer ----------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ignored>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<spread>\.\.\.)
  | (?P<block>\"\"\")
  | (?P<string>"(?:[^"\\\n\r]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))*")
  | (?P<float>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+))
  | (?P<int>-?(?:0|[1-9][0-9]*))
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<punct>[!$&():=@\[\]{|}])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # name | int | float | string | punct | spread | eof
    text: str
    position: int


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN_RE.match(source, position)
        if match is None:
            raise GraphQLError(
                f"Syntax error: unexpected character {source[position]!r} at {position}."
            )
        kind = match.lastgroup
        assert kind is not None
        if kind == "block":
            raise GraphQLError("Block strings are not supported by the sandbox.")
        if kind in ("int", "float"):
            end = match.end()
            if end < len(source) and (source[end].isalnum() or source[end] in "_."):
                raise GraphQLError(f"Syntax error: invalid number at {position}.")
        if kind != "ignored":
            tokens.append(Token(kind, match.group(), position))
        position = match.end()
    tokens.append(Token("eof", "", position))
    return tokens


# --- parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.index = 0

    def _location(self, position: int) -> Location:
        line_start = self.source.rfind("\n", 0, position) + 1
        return Location(self.source.count("\n", 0, position) + 1, position - line_start + 1)

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def _error(self, expected: str) -> GraphQLError:
        token = self.current
        found = "end of document" if token.kind == "eof" else repr(token.text)
        return GraphQLError(
            f"Syntax error: expected {expected}, found {found} at {token.position}."
        )

    def _advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def _is(self, text: str, kind: str = "punct") -> bool:
        return self.current.kind == kind and self.current.text == text

    def _expect(self, text: str) -> None:
        if not self._is(text):
            raise self._error(repr(text))
        self.index += 1

    def _name(self) -> str:
        if self.current.kind != "name":
            raise self._error("a name")
        return self._advance().text

    def _reject_unsupported(self) -> None:
        if self._is("@"):
            raise GraphQLError("Directives are not supported by the sandbox.")
        if self.current.kind == "spread":
            raise GraphQLError("Fragments are not supported by the sandbox.")

    def parse_document(self) -> OperationNode:
        operation = self._operation()
        if self.current.kind != "eof":
            if self.current.kind == "name" or self._is("{"):
                raise GraphQLError("Only one operation per document is supported by the sandbox.")
            raise self._error("end of document")
        return operation

    def _operation(self) -> OperationNode:
        if self._is("{"):
            return OperationNode(None, {}, self._selection_set())
        keyword = self._name() if self.current.kind == "name" else None
        if keyword == "fragment":
            raise GraphQLError("Fragments are not supported by the sandbox.")
        if keyword in ("mutation", "subscription"):
            raise GraphQLError(f"The sandbox supports queries only, not {keyword}s.")
        if keyword != "query":
            if keyword is not None:
                found = repr(keyword)
            elif self.current.kind == "eof":
                found = "end of document"
            else:
                found = repr(self.current.text)
            raise GraphQLError(
                f"Syntax error: a document must start with 'query' or '{{', found {found}."
            )
        name = self._name() if self.current.kind == "name" else None
        variables = self._variable_definitions() if self._is("(") else {}
        self._reject_unsupported()
        return OperationNode(name, variables, self._selection_set())

    def _variable_definitions(self) -> dict[str, VariableDefinition]:
        self._expect("(")
        definitions: dict[str, VariableDefinition] = {}
        while not self._is(")"):
            self._expect("$")
            name = self._name()
            self._expect(":")
            non_null = self._type()
            definition = VariableDefinition(name, non_null)
            if self._is("="):
                self.index += 1
                definition = VariableDefinition(name, non_null, self._value(const=True), True)
            self._reject_unsupported()
            if name in definitions:
                raise GraphQLError(f"The variable ${name} is declared twice.")
            definitions[name] = definition
        self._expect(")")
        if not definitions:
            raise self._error("a variable definition")
        return definitions

    def _type(self) -> bool:
        """Parse a type reference; returns whether it is non-null."""
        if self._is("["):
            self.index += 1
            self._type()
            self._expect("]")
        else:
            self._name()
        if self._is("!"):
            self.index += 1
            return True
        return False

    def _selection_set(self) -> tuple[FieldNode, ...]:
        self._expect("{")
        selections: list[FieldNode] = []
        while not self._is("}"):
            self._reject_unsupported()
            selections.append(self._field())
        self._expect("}")
        if not selections:
            raise self._error("a field")
        return tuple(selections)

    def _field(self) -> FieldNode:
        location = self._location(self.current.position)
        name = self._name()
        alias = None
        if self._is(":"):
            self.index += 1
            alias, name = name, self._name()
        arguments = self._arguments() if self._is("(") else {}
        self._reject_unsupported()
        selections = self._selection_set() if self._is("{") else ()
        return FieldNode(name, alias, arguments, selections, location)

    def _arguments(self) -> dict[str, ValueNode]:
        self._expect("(")
        arguments: dict[str, ValueNode] = {}
        while not self._is(")"):
            name = self._name()
            self._expect(":")
            if name in arguments:
                raise GraphQLError(f"The argument '{name}' is given twice.")
            arguments[name] = self._value(const=False)
        self._expect(")")
        if not arguments:
            raise self._error("an argument")
        return arguments

    def _value(self, *, const: bool) -> ValueNode:
        token = self.current
        if self._is("$"):
            if const:
                raise GraphQLError("Variables are not allowed in default values.")
            self.index += 1
            return Variable(self._name())
        if self._is("["):
            self.index += 1
            items: list[ValueNode] = []
            while not self._is("]"):
                items.append(self._value(const=const))
            self.index += 1
            return items
        if self._is("{"):
            self.index += 1
            fields: dict[str, ValueNode] = {}
            while not self._is("}"):
                name = self._name()
                self._expect(":")
                if name in fields:
                    raise GraphQLError(f"The input field '{name}' is given twice.")
                fields[name] = self._value(const=const)
            self.index += 1
            return fields
        if token.kind == "int":
            self.index += 1
            return int(token.text)
        if token.kind == "float":
            self.index += 1
            return float(token.text)
        if token.kind == "string":
            self.index += 1
            text: str = json.loads(token.text)
            return text
        if token.kind == "name":
            self.index += 1
            if token.text in ("true", "false"):
                return token.text == "true"
            if token.text == "null":
                return None
            return EnumValue(token.text)
        raise self._error("a value")


def parse_query(source: str) -> OperationNode:
    return _Parser(source).parse_document()


# --- input types and coercion -------------------------------------------------------------


@dataclass(frozen=True)
class ScalarType:
    name: str  # Int | String | Boolean | UUID


@dataclass(frozen=True)
class EnumType:
    name: str
    values: frozenset[str]


@dataclass(frozen=True)
class ListType:
    of: "InputType"


@dataclass(frozen=True)
class InputObjectType:
    name: str
    fields: Mapping[str, "InputType"]


InputType = ScalarType | EnumType | ListType | InputObjectType

INT = ScalarType("Int")
STRING = ScalarType("String")
BOOLEAN = ScalarType("Boolean")
UUID_TYPE = ScalarType("UUID")

_UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"
)


def _type_name(type_: InputType) -> str:
    if isinstance(type_, ListType):
        return f"[{_type_name(type_.of)}]"
    return type_.name


class Variables:
    """Request variables resolved against the operation's definitions."""

    def __init__(self, operation: OperationNode, provided: Mapping[str, Any]) -> None:
        self._values: dict[str, Any] = {}
        for name, definition in operation.variables.items():
            if name in provided:
                value = provided[name]
            elif definition.has_default:
                value = _literal_to_json(definition.default)
            else:
                value = None
            if value is None and definition.non_null:
                raise GraphQLError(f"The variable ${name} is non-null but no value was provided.")
            self._values[name] = value
        self._defined = frozenset(operation.variables)

    def get(self, name: str) -> Any:
        if name not in self._defined:
            raise GraphQLError(f"The variable ${name} is not declared by the operation.")
        return self._values[name]


def _literal_to_json(node: ValueNode) -> Any:
    if isinstance(node, EnumValue):
        return node.name
    if isinstance(node, list):
        return [_literal_to_json(item) for item in node]
    if isinstance(node, dict):
        return {key: _literal_to_json(value) for key, value in node.items()}
    return node


def coerce_argument(node: ValueNode, type_: InputType, variables: Variables, path: str) -> Any:
    """Coerce an argument literal (which may contain variables) to a Python value.

    Enum values come out as their names (str); UUIDs in lowercase dashed form.
    """
    if isinstance(node, Variable):
        return coerce_variable(variables.get(node.name), type_, path)
    if node is None:
        return None
    if isinstance(type_, ListType):
        items = node if isinstance(node, list) else [node]
        return [
            coerce_argument(item, type_.of, variables, f"{path}[{i}]")
            for i, item in enumerate(items)
        ]
    if isinstance(type_, InputObjectType):
        if not isinstance(node, dict):
            raise _mismatch(path, type_, node)
        return {
            key: coerce_argument(value, _input_field(type_, key, path), variables, f"{path}.{key}")
            for key, value in node.items()
        }
    if isinstance(type_, EnumType):
        if isinstance(node, EnumValue) and node.name in type_.values:
            return node.name
        raise _mismatch(path, type_, node)
    if isinstance(node, EnumValue | list | dict):
        raise _mismatch(path, type_, node)
    return _coerce_scalar(node, type_, path)


def coerce_variable(value: Any, type_: InputType, path: str) -> Any:
    """Coerce a JSON variable value (enums as strings)."""
    if value is None:
        return None
    if isinstance(type_, ListType):
        items = value if isinstance(value, list) else [value]
        return [coerce_variable(item, type_.of, f"{path}[{i}]") for i, item in enumerate(items)]
    if isinstance(type_, InputObjectType):
        if not isinstance(value, dict):
            raise _mismatch(path, type_, value)
        return {
            key: coerce_variable(item, _input_field(type_, key, path), f"{path}.{key}")
            for key, item in value.items()
        }
    if isinstance(type_, EnumType):
        if isinstance(value, str) and value in type_.values:
            return value
        raise _mismatch(path, type_, value)
    if isinstance(value, list | dict):
        raise _mismatch(path, type_, value)
    return _coerce_scalar(value, type_, path)


_SCALAR_CHECKS: Mapping[str, Callable[[Any], bool]] = {
    "Int": lambda v: isinstance(v, int) and not isinstance(v, bool) and -(2**31) <= v < 2**31,
    "Boolean": lambda v: isinstance(v, bool),
    "String": lambda v: isinstance(v, str),
    "UUID": lambda v: isinstance(v, str) and _UUID_RE.fullmatch(v) is not None,
}


def _coerce_scalar(value: Any, type_: ScalarType, path: str) -> Any:
    if not _SCALAR_CHECKS[type_.name](value):
        raise _mismatch(path, type_, value)
    if type_ is UUID_TYPE:
        return str(uuid.UUID(value))
    return value


def _input_field(type_: InputObjectType, key: str, path: str) -> InputType:
    if key not in type_.fields:
        known = ", ".join(type_.fields)
        raise GraphQLError(
            f"The field '{key}' does not exist on the input type {type_.name} "
            f"(at {path}; known fields: {known})."
        )
    return type_.fields[key]


def _mismatch(path: str, type_: InputType, value: Any) -> GraphQLError:
    shown = value.name if isinstance(value, EnumValue) else json.dumps(value, default=repr)
    return GraphQLError(
        f"The value {shown} at {path} is not compatible with the type {_type_name(type_)}."
    )


def coerce_arguments(
    field_node: FieldNode, schema: Mapping[str, InputType], variables: Variables
) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for name, node in field_node.arguments.items():
        if name not in schema:
            raise GraphQLError(
                f"The argument '{name}' does not exist on the field '{field_node.name}'.",
                path=[field_node.response_key],
            )
        arguments[name] = coerce_argument(node, schema[name], variables, name)
    return arguments


# --- output helpers ------------------------------------------------------------------


def select_object(
    type_name: str,
    selections: Sequence[FieldNode],
    scalars: Mapping[str, Callable[[], object]],
    objects: Mapping[str, Callable[[FieldNode], object]] | None = None,
) -> dict[str, object]:
    """Build an output object from a selection set.

    `scalars`: leaf field -> value thunk; `objects`: composite field -> resolver of the
    field node (which must carry a sub-selection).
    """
    objects = objects or {}
    result: dict[str, object] = {}
    for selection in selections:
        if selection.arguments:
            raise GraphQLError(f"The field '{selection.name}' on {type_name} takes no arguments.")
        if selection.name == "__typename":
            result[selection.response_key] = type_name
        elif selection.name in scalars:
            if selection.selections:
                raise GraphQLError(
                    f"The field '{selection.name}' on {type_name} is a leaf and has no sub-fields."
                )
            result[selection.response_key] = scalars[selection.name]()
        elif selection.name in objects:
            if not selection.selections:
                raise GraphQLError(
                    f"The field '{selection.name}' on {type_name} must have a selection "
                    "of sub-fields."
                )
            result[selection.response_key] = objects[selection.name](selection)
        else:
            raise GraphQLError(
                f"The field '{selection.name}' does not exist on the type {type_name}."
            )
    return result


# --- endpoint --------------------------------------------------------------------------


@dataclass(frozen=True)
class RootField:
    """A supported root query field: its fault/counter operation, resolver and an optional
    document validation (run before faults and authentication, like a server's validation
    phase; it raises GraphQLError)."""

    operation: Operation
    resolve: Callable[[SandboxState, Customer, FieldNode, Variables], object]
    validate: Callable[[SandboxState, FieldNode], None] | None = None


def _parse_request(raw: bytes) -> tuple[OperationNode, Mapping[str, Any]]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise GraphQLError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise GraphQLError("The request body must be a JSON object with a 'query'.")
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise GraphQLError("The request has no 'query' string.")
    variables = body.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise GraphQLError("'variables' must be a JSON object.")
    operation_name = body.get("operationName")
    operation = parse_query(query)
    if operation_name is not None and operation_name != operation.name:
        raise GraphQLError(f"The document has no operation named {operation_name!r}.")
    return operation, variables


def build_graphql_router(state: SandboxState, roots: Mapping[str, RootField]) -> APIRouter:
    router = APIRouter(tags=["graphql"])

    def failed(error: GraphQLError) -> JSONResponse:
        state.graphql_errors[error.code] += 1
        return errors_response(error)

    @router.post("/graphql")
    async def graphql(request: Request) -> JSONResponse:
        try:
            operation, provided = _parse_request(await request.body())
            for selection in operation.selections:
                if selection.name != "__typename" and selection.name not in roots:
                    raise GraphQLError(
                        f"The field '{selection.name}' does not exist on the type Query "
                        f"(the sandbox serves: {', '.join(sorted(roots))})."
                    )
                root = roots.get(selection.name)
                if root is not None and root.validate is not None:
                    root.validate(state, selection)
            variables = Variables(operation, provided)
        except GraphQLError as error:
            return failed(error)

        for operation_name in dict.fromkeys(
            roots[s.name].operation for s in operation.selections if s.name in roots
        ):
            await inject_faults(state, operation_name)

        try:
            customer = authenticate(state, request)
        except ProblemError as problem:
            if state.config.graphql_unauthorized_status == 401:
                raise
            message = (
                f"The current user is not authorized to access this resource: {problem.detail}"
            )
            code = "FORBIDDEN" if problem.status == 403 else "UNAUTHORIZED"
            return failed(GraphQLError(message, code))

        data: dict[str, object] = {}
        try:
            for selection in operation.selections:
                if selection.name == "__typename":
                    data[selection.response_key] = "Query"
                else:
                    data[selection.response_key] = roots[selection.name].resolve(
                        state, customer, selection, variables
                    )
        except GraphQLError as error:
            return failed(error)
        return JSONResponse({"data": data})

    return router
