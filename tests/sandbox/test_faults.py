"""Fault knobs: injected latency, errors and timeouts, from the config or flipped at run time."""

import asyncio

import pytest

from app.sandbox import Operation, SandboxConfig

from .conftest import (
    DEMO_TCKN,
    LOGIN,
    ME,
    NEW_CASE,
    Sandbox,
    SandboxFactory,
    assert_problem,
    bearer,
    login_body,
)


class RecordingSleep:
    """Injected `sleep`: records durations instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


async def test_error_rate_from_the_config_injects_503_upstream_problems(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(error_rate={"login": 1.0})

    response = await sandbox.client.post(LOGIN, json=login_body())

    problem = assert_problem(response, 503, "upstream-service")
    assert problem["codes"] == ["SANDBOX_INJECTED_FAULT"]
    assert sandbox.state.calls["login"] == 1
    assert sandbox.state.injected_faults["login"] == 1
    assert sum(sandbox.state.logins.values()) == 0


async def test_knobs_can_be_flipped_at_run_time(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()
    headers = bearer(tokens["accessToken"])
    assert (await sandbox.client.get(ME, headers=headers)).status_code == 200

    sandbox.state.faults.error_rate["customer_me"] = 1.0
    failing = await sandbox.client.get(ME, headers=headers)
    sandbox.state.faults.clear()
    healed = await sandbox.client.get(ME, headers=headers)

    assert_problem(failing, 503, "upstream-service")
    assert healed.status_code == 200


async def test_fail_next_fails_a_fixed_number_of_calls(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()
    body = {"customerId": tokens["customerId"], "productBranch": "KASKO"}
    sandbox.state.faults.fail_next[Operation.CASE_CREATE] = 2

    statuses = [
        (
            await sandbox.client.post(NEW_CASE, json=body, headers=bearer(tokens["accessToken"]))
        ).status_code
        for _ in range(3)
    ]

    assert statuses == [503, 503, 200]
    assert sandbox.state.case_creations[tokens["customerId"]] == 1


async def test_graphql_faults_are_503_problems(sandbox: Sandbox) -> None:
    tokens = await sandbox.tokens()
    sandbox.state.faults.fail_next["cases_query"] = 1

    response = await sandbox.graphql("{ cases { totalCount } }", tokens["accessToken"])

    assert_problem(response, 503, "upstream-service")


async def test_latency_uses_the_injected_sleep(make_sandbox: SandboxFactory) -> None:
    sleep = RecordingSleep()
    sandbox = await make_sandbox(latency_seconds={"login": 0.75, "*": 0.25}, sleep=sleep)

    await sandbox.tokens()

    assert sleep.calls == [0.75, 0.25]  # login, then verify_mfa through the wildcard


async def test_injected_timeout_hangs_for_the_configured_bound_then_answers_504(
    make_sandbox: SandboxFactory,
) -> None:
    sleep = RecordingSleep()
    sandbox = await make_sandbox(timeout={"verify_mfa"}, sleep=sleep)
    token = (await sandbox.client.post(LOGIN, json=login_body())).json()["token"]

    response = await sandbox.client.post(
        "/api/auth/customer/verify-mfa", json={"token": token, "code": "123456"}
    )

    assert sleep.calls == [30.0]
    assert_problem(response, 504, "upstream-service")
    assert sandbox.state.injected_faults["verify_mfa"] == 1


async def test_injected_timeout_outlasts_a_client_timeout(make_sandbox: SandboxFactory) -> None:
    sandbox = await make_sandbox(timeout_fault_seconds=5.0)
    sandbox.state.faults.timeout.add("login")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sandbox.client.post(LOGIN, json=login_body()), timeout=0.05)

    sandbox.state.faults.timeout.discard("login")
    assert (await sandbox.client.post(LOGIN, json=login_body())).status_code == 200


async def test_error_rate_draws_are_reproducible_with_a_seed(make_sandbox: SandboxFactory) -> None:
    outcomes = []
    for _ in range(2):
        sandbox = await make_sandbox(error_rate={"login": 0.5}, random_seed=7)
        statuses = [
            (await sandbox.client.post(LOGIN, json=login_body(DEMO_TCKN))).status_code
            for _ in range(20)
        ]
        outcomes.append(statuses)

    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 503}


@pytest.mark.parametrize(
    "overrides",
    [
        {"error_rate": {"logn": 1.0}},
        {"error_rate": {"login": 1.5}},
        {"latency_seconds": {"login": -1.0}},
        {"timeout": {"purchse"}},
        {"pricing_delay_seconds": (3.0, 1.0)},
        {"purchase_settle_seconds": -1.0},
        {"coverage_groups": {"not-an-object-id": "X"}},
        {"access_token_seconds": 0},
        {"mfa_code": "12345"},
        {"graphql_unauthorized_status": 403},
    ],
)
def test_config_rejects_nonsense(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the messages vary by field
        SandboxConfig(**overrides)  # type: ignore[arg-type]


def test_fault_knobs_come_from_the_environment() -> None:
    from app.sandbox.config import config_from_env

    config = config_from_env(
        {
            "SANDBOX_LATENCY_SECONDS": "proposal_get=0.5, purchase=1",
            "SANDBOX_ERROR_RATE": "purchase=0.25",
            "SANDBOX_TIMEOUT": "vehicle_lookup",
            "SANDBOX_DOCUMENT_INLINE": "true",
        }
    )
    assert dict(config.latency_seconds) == {"proposal_get": 0.5, "purchase": 1.0}
    assert dict(config.error_rate) == {"purchase": 0.25}
    assert set(config.timeout) == {"vehicle_lookup"}
    assert config.document_inline is True
    assert config_from_env({}) == config_from_env({"SANDBOX_TIMEOUT": ""})
