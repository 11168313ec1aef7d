"""The demo never shows the gateway's (English) words: every problem `code` the gateway can
answer, every request field a problem can name, every reason a product has no pay button and
every reason a payment failed has Turkish words in app/demo/static/messages.js."""

import json
import re
from pathlib import Path

import app.errors
from app.openapi_export import TARGET

MESSAGES = (
    Path(__file__).resolve().parents[2] / "app" / "demo" / "static" / "messages.js"
).read_text(encoding="utf-8")
SPEC = json.loads(TARGET.read_text(encoding="utf-8"))


def keys_of(name: str) -> set[str]:
    """The keys of `const NAME = { ... };` in messages.js (bare or quoted, one per line)."""
    block = re.search(rf"const {name} = \{{\n(.*?)\n\}};", MESSAGES, re.S)
    assert block, f"messages.js has no {name}"
    return set(re.findall(r'^  "?([\w.]+)"?:', block[1], re.M))


def gateway_codes() -> set[str]:
    codes = {"internal_error"}
    pending = [app.errors.GatewayError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return codes


def documented_codes() -> set[str]:
    named: set[str] = set()
    for operations in SPEC["paths"].values():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    named |= set(re.findall(r"`([a-z_]+)`", answer.get("description", "")))
    return named


def request_fields() -> set[str]:
    """Every body property of every JSON request, as errors[].field spells it."""
    schemas = SPEC["components"]["schemas"]
    fields: set[str] = set()

    def walk(schema: dict[str, object], prefix: str) -> None:
        for name, prop in dict(schema.get("properties", {})).items():  # type: ignore[call-overload]
            fields.add(prefix + name)
            for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(prop)):
                walk(schemas[ref], f"{prefix}{name}.")

    for operations in SPEC["paths"].values():
        for operation in operations.values():
            if {"csrfHeader": []} not in operation.get("security", []):
                continue  # not a customer's call (InsurUp's webhooks, the bank's callback)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                schema = body["schema"]
                if "$ref" in schema:
                    schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
                walk(schema, "")
    return fields


def test_every_problem_code_has_turkish_words() -> None:
    words = keys_of("CODES")
    assert gateway_codes() - words == set()
    assert documented_codes() - words == set()
    assert "network_error" in words  # made by the client


def test_every_request_field_has_turkish_words() -> None:
    fields = request_fields()
    assert {"consents", "informationFormAccepted", "card.number"} <= fields
    assert fields - keys_of("FIELDS") == set()


def test_every_reason_has_turkish_words() -> None:
    product = SPEC["components"]["schemas"]["ProductRead"]["properties"]["notPurchasableReason"]
    reasons = set(product["anyOf"][0]["enum"])
    assert reasons - keys_of("NOT_PURCHASABLE") == set()
    payment = SPEC["components"]["schemas"]["PaymentRead"]["properties"]["failureReason"]
    failures = set(re.findall(r"`([a-z_]+)`", payment["description"]))
    assert failures == {
        "declined",
        "insurer_failed",
        "abandoned",
        "payment_not_completed",
        "not_started",
    }
    assert failures - keys_of("FAILURE_REASONS") == set()
