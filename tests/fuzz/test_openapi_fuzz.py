"""Schemathesis against the committed `openapi/openapi.json`: every operation, generated
inputs (valid and invalid), signed in as a sandbox customer. No 500s; every answer matches the
document (status, content type, body schema). Bounded so CI stays quick."""

import base64
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis import checks

from app.config import Settings
from app.main import create_app
from bench.servers import free_port
from tests.conftest import REDIS_URL

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(str(SPEC))
EXAMPLES = 25
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # runs in a thread: leave signals alone
        pass


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, str]]:
    """The gateway with the embedded sandbox on a free port, in a thread, and a signed-in
    bearer session for it."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    prefix = f"bfffuzz-{uuid.uuid4().hex[:8]}:"
    app = create_app(
        Settings(
            _env_file=None,
            env="test",
            redis_url=REDIS_URL,
            redis_key_prefix=prefix,
            session_keys=[base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()],
            public_base_url=public,
            cookie_secure=False,
            # Generated sign-ins must not lock the fuzzer out of the API it is testing.
            login_rate_limit_per_ip="10000/minute",
            login_rate_limit_per_identity="10000/minute",
            mfa_rate_limit_per_ip="10000/minute",
            quote_stream_seconds=1,
        ),
        configure_logs=False,
    )
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        time.sleep(0.01)
    login = {
        "customerType": "individual",
        "identityNumber": "11111111110",
        "birthDate": "1990-01-01",
        "phoneNumber": "05321234567",
        "consents": ["KVKK"],
    }
    with httpx.Client(base_url=public) as web:
        pending = web.post(
            "/api/v1/session", json=login, headers={"X-Session-Transport": "bearer"}
        ).json()["sessionToken"]
        verified = web.post(
            "/api/v1/session/mfa",
            json={"code": "123456"},
            headers={"Authorization": f"Bearer {pending}"},
        )
        verified.raise_for_status()
        token = verified.json()["sessionToken"]  # the SMS step issues the session's own
    yield public, token
    server.should_exit = True
    thread.join(10)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_documented_contract(
    case: schemathesis.Case[Any], live: tuple[str, str]
) -> None:
    base_url, token = live
    headers = dict(case.headers or {})
    # Keep the session unless the generated case is about authentication itself.
    headers.setdefault("Authorization", f"Bearer {token}")
    if case.path == "/api/v1/session" and case.method in ("DELETE",):
        headers["Authorization"] = "Bearer " + "x" * 43  # never sign the fuzzer out
    case.call_and_validate(base_url=base_url, headers=headers, checks=CHECKS, timeout=15)


def test_call_sequences_keep_the_contract(live: tuple[str, str]) -> None:
    """Stateful: Schemathesis chains operations through the ids they return (a vehicle into
    a quote, a quote into its events and products) and checks every answer on the way."""
    base_url, token = live
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            headers = dict(case.headers or {})
            headers.setdefault("Authorization", f"Bearer {token}")
            if case.path == "/api/v1/session" and case.method == "DELETE":
                headers["Authorization"] = "Bearer " + "x" * 43
            return {"base_url": base_url, "headers": headers, "timeout": 15}

        def validate_response(
            self, response: Any, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS[:4])

    Workflow.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
