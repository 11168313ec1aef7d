"""`make probe`, the read-only contract probe, against the in-process sandbox and the knobs
for what InsurUp's contract leaves open: each variant shows in the row that asks about it,
nothing is created but a sign-in, and nothing secret reaches the output."""

import io
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
import pytest

from app.config import Settings
from app.insurup.models import TokenPair
from app.insurup.probe import (
    CHECKS,
    FAIL,
    PASS,
    SANDBOX_BASE_URL,
    SKIP,
    VARIANT,
    Inputs,
    Probe,
    Row,
    check_policy_document,
    check_proposal,
    exit_code,
    main,
    parse_inputs,
    probe_for,
    render,
    run_checks,
    scrub,
    terminal_code,
)
from app.sandbox import ManualClock, SandboxConfig, create_sandbox_app, get_sandbox_state
from tests.sandbox.conftest import Sandbox
from tests.sandbox.flows import pick, product_in, shopper

TCKN = "11111111110"
PHONE = "5321234567"
CODE = "123456"
CUSTOMER = Inputs(identity=TCKN, birth_date=date(1990, 1, 1), phone=PHONE)
# What a sign-in may leave behind, and the reads: anything else would be the probe writing.
PROBE_OPERATIONS = {
    "service_token",
    "login",
    "verify_mfa",
    "refresh",
    "brands",
    "customer_me",
    "cases_query",
    "proposal_get",
    "information_form",
    "policy_document",
    "document_download",
}


def sandbox_settings() -> Settings:
    return Settings(_env_file=None, env="test")  # the built-in sandbox, its service account


@asynccontextmanager
async def running_sandbox(**knobs: Any) -> AsyncIterator[Sandbox]:
    clock = ManualClock()
    app = create_sandbox_app(SandboxConfig(now=clock, **knobs))
    state = get_sandbox_state(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=SANDBOX_BASE_URL) as http:
        try:
            yield Sandbox(http, state, clock)
        finally:
            await state.webhooks.aclose()


def probe(inputs: Inputs = CUSTOMER, code: str = CODE) -> Probe:
    return probe_for(
        sandbox_settings(), inputs, ask_code=lambda _prompt: code, base_url=SANDBOX_BASE_URL
    )


async def run(inputs: Inputs = CUSTOMER, code: str = CODE, **knobs: Any) -> dict[str, Row]:
    async with running_sandbox(**knobs) as sandbox:
        rows = await run_checks(sandbox.client, probe(inputs, code))
        assert set(sandbox.state.calls) <= PROBE_OPERATIONS
    return {row.key: row for row in rows}


def outcomes(rows: dict[str, Row]) -> dict[str, str]:
    return {key: row.outcome for key, row in rows.items()}


async def bought(sandbox: Sandbox) -> tuple[str, str, str]:
    """(proposal, product, policy) of a purchase by the test customer, made before the probe
    runs (the probe itself never buys or creates a proposal)."""
    me = await shopper(sandbox, TCKN)
    priced = await me.priced_proposal()
    product = pick(priced, option="ASYNC_3D_SECURE")
    started = await me.purchase(priced, product)
    assert started.status_code == 200, started.text
    await sandbox.client.post(f"{started.json()['redirectUrl']}/approve")
    policy_id = product_in(await me.proposal(priced["proposalId"]), product["id"])["policyId"]
    return priced["proposalId"], product["id"], policy_id


async def test_every_check_passes_against_the_default_sandbox() -> None:
    async with running_sandbox() as sandbox:
        proposal, product, policy = await bought(sandbox)
        creations = (
            dict(sandbox.state.proposal_creations),
            dict(sandbox.state.purchase_starts),
            dict(sandbox.state.case_creations),
            dict(sandbox.state.vehicle_creations),
        )
        inputs = Inputs(
            identity=TCKN,
            birth_date=date(1990, 1, 1),
            phone=PHONE,
            proposal=proposal,
            product=product,
            policy=policy,
        )

        rows = await run_checks(sandbox.client, probe(inputs))

        after = (
            dict(sandbox.state.proposal_creations),
            dict(sandbox.state.purchase_starts),
            dict(sandbox.state.case_creations),
            dict(sandbox.state.vehicle_creations),
        )
    assert after == creations  # read-only: nothing bought, no proposal, no case
    assert {row.key: row.outcome for row in rows} == {
        key: PASS
        for key in ("1", "2a", "2b", "3a", "3b", "4a", "4b", "5a", "5b", "6", "7a", "7b", "7c")
    }
    by_key = {row.key: row for row in rows}
    assert by_key["1"].statuses == "200 bare:200"
    assert "served directly" in by_key["1"].note
    assert "expires_in 1800" in by_key["2a"].note
    assert "MFA token (variant A" in by_key["3a"].note
    assert "expiresIn: no, customerId: yes" in by_key["3b"].note
    assert "JWT exp: yes" in by_key["3b"].note
    assert "rotated: yes" in by_key["4a"].note
    assert "does not need it" in by_key["4b"].note
    assert "`id` is a known field" in by_key["5a"].note
    assert "$type=individual" in by_key["6"].note
    assert "no unknown enum values" in by_key["7a"].note
    assert "the file is a PDF" in by_key["7b"].note
    assert "the file is a PDF" in by_key["7c"].note
    assert exit_code(rows) == 0


async def test_without_ids_the_reads_are_not_checked_and_that_is_no_failure() -> None:
    rows = await run()

    assert {key: rows[key].outcome for key in ("7a", "7b", "7c")} == dict.fromkeys(
        ("7a", "7b", "7c"), SKIP
    )
    assert rows["2b"].outcome == PASS
    assert rows["2b"].statuses == "404"  # a made-up proposal: the token was accepted
    assert exit_code(list(rows.values())) == 0


async def test_a_refresh_that_needs_the_access_token_fails_body_only_and_passes_with_it() -> None:
    rows = await run(refresh_requires_access_token=True)

    assert rows["4a"].outcome == VARIANT  # the gateway sends the header: not a failure
    assert rows["4a"].statuses == "401"
    assert "needs it" in rows["4a"].note
    assert rows["4b"].outcome == PASS
    assert "requires it" in rows["4b"].note
    assert exit_code(list(rows.values())) == 0


async def test_cases_without_an_id_field_fail_with_id_and_pass_without() -> None:
    rows = await run(legacy_cases_id_field=False)

    assert rows["5a"].outcome == VARIANT  # the gateway asks without `id`: not a failure
    assert "HC0020" in rows["5a"].note
    assert rows["5b"].outcome == PASS
    assert not [key for key, row in rows.items() if row.outcome == FAIL]
    assert exit_code(list(rows.values())) == 0


@pytest.mark.parametrize("status", [308, 307])
async def test_a_redirecting_api_prefix_is_reported_with_where_it_points(status: int) -> None:
    rows = await run(api_prefix=f"redirect-{status}")

    prefix = rows["1"]
    assert prefix.outcome == PASS
    assert prefix.statuses == f"{status}->200 bare:200"
    assert f"answers {status} to /vehicle-parameters/brands" in prefix.note
    # Followed as the gateway follows it, every other call works through the redirect too.
    assert rows["3a"].statuses == f"{status}->200"
    assert {key for key, row in rows.items() if row.outcome == PASS} >= {"2a", "3a", "4b", "6"}
    assert not [row for row in rows.values() if row.outcome == FAIL]


async def test_a_redirect_to_another_origin_fails_the_prefix_check() -> None:
    rows = await run(api_prefix="redirect-308", api_redirect_host="https://elsewhere.example")

    assert rows["1"].outcome == FAIL
    assert "https://elsewhere.example/vehicle-parameters/brands" in rows["1"].note
    assert rows["3a"].outcome == FAIL  # the sign-in is redirected there too, and not followed
    assert rows["3a"].statuses == "308"


async def test_direct_tokens_at_login_leave_no_sms_step_to_verify() -> None:
    rows = await run(direct_tokens=True)

    assert rows["3a"].outcome == PASS
    assert "variant B" in rows["3a"].note
    assert rows["3b"].outcome == SKIP
    assert rows["4a"].outcome == rows["4b"].outcome == PASS


async def test_a_refused_service_account_fails_and_its_read_is_not_checked() -> None:
    rows = await run(service_clients={"sa-other": "other-secret"})

    assert rows["2a"].outcome == FAIL
    assert rows["2a"].statuses == "401"
    assert "invalid_client" in rows["2a"].note
    assert rows["2b"].outcome == SKIP


async def test_no_sms_code_leaves_the_customer_checks_unchecked() -> None:
    rows = await run(code="")

    assert rows["3a"].outcome == PASS
    for key in ("1", "3b", "4a", "4b", "5a", "5b", "6"):
        assert rows[key].outcome == SKIP, key
    assert exit_code(list(rows.values())) == 0


async def test_a_wrong_sms_code_fails_verify() -> None:
    rows = await run(code="654321")

    assert rows["3b"].outcome == FAIL
    assert "MFA_CODE_INVALID" in rows["3b"].note


async def test_an_inline_policy_pdf_passes() -> None:
    async with running_sandbox(document_inline=True) as sandbox:
        _, _, policy = await bought(sandbox)
        probe_ = probe(Inputs(identity=TCKN, birth_date=date(1990, 1, 1), phone=PHONE))
        await run_checks(sandbox.client, probe_, CHECKS[:4])  # sign in
        probe_.inputs = Inputs(policy=policy)

        row = await check_policy_document(sandbox.client, probe_)

    assert row.outcome == PASS
    assert "the PDF itself" in row.note


def canned(
    answers: dict[str, Callable[[httpx.Request], httpx.Response]],
) -> httpx.AsyncClient:
    async def handle(request: httpx.Request) -> httpx.Response:
        return answers[request.url.path](request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="https://insurup.test")


def signed_in(inputs: Inputs) -> Probe:
    probe_ = Probe(inputs=inputs, ask_code=lambda _prompt: CODE, document_hosts=("insurup.test",))
    probe_.tokens = TokenPair(access_token="access-token-value", refresh_token="refresh-value")
    return probe_


async def test_enum_values_the_gateway_does_not_know_fail_the_proposal_read() -> None:
    state = f"PRICED_{uuid.uuid4().hex[:6].upper()}"  # terms.py reports a value once a process
    proposal = {"proposalId": "p1", "products": [{"id": "x", "state": state}]}
    async with canned(
        {"/api/proposals/p1": lambda _request: httpx.Response(200, json=proposal)}
    ) as http:
        row = await check_proposal(http, signed_in(Inputs(proposal="p1")))

    assert row.outcome == FAIL
    assert f"product_state={state}" in row.note


async def test_a_document_address_the_gateway_may_not_fetch_fails() -> None:
    answer = {"url": "https://files.elsewhere.example/doc.pdf?signature=abc"}
    async with canned(
        {"/api/policies/p1/document": lambda _request: httpx.Response(200, json=answer)}
    ) as http:
        probe_ = signed_in(Inputs(policy="p1"))
        row = await check_policy_document(http, probe_)

    assert row.outcome == FAIL
    assert "files.elsewhere.example" in row.note
    assert "signature" not in render([row], secrets=probe_.secrets)


async def test_a_check_that_gets_no_answer_is_a_failed_row_not_a_crash() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with canned({"/api/proposals/p1": refuse}) as http:
        row = await check_proposal(http, signed_in(Inputs(proposal="p1")))

    assert (row.outcome, row.note) == (FAIL, "no answer from InsurUp (ConnectError)")


# -- what is printed ---------------------------------------------------------------------------

JWT = re.compile(r"eyJ[\w-]{8,}")


def assert_nothing_secret(output: str, secrets: frozenset[str] = frozenset()) -> None:
    for value in (TCKN, PHONE, "90" + PHONE, "sandbox-secret", *secrets):
        assert value not in output
    assert not JWT.search(output)
    assert not re.search(r"\b(rt|mfa|jti)_[\w-]{8,}", output)


async def test_nothing_secret_is_in_the_report() -> None:
    async with running_sandbox() as sandbox:
        probe_ = probe()
        rows = await run_checks(sandbox.client, probe_)

    secrets = probe_.secrets
    assert probe_.access_token in secrets  # the scrub list holds what was seen
    report = render(rows, secrets=secrets)
    assert_nothing_secret(report, secrets)


def test_scrub_removes_a_secret_even_where_a_note_names_it() -> None:
    row = Row("9", "leak", FAIL, "-", "token abcdefgh1234 and 11111111110")

    report = render([row], secrets=frozenset({"abcdefgh1234", TCKN}))

    assert "abcdefgh1234" not in report
    assert TCKN not in report
    assert scrub("x secret-long y", frozenset({"secret-long"})) == "x *** y"


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))


@pytest.mark.usefixtures("no_terminal")
def test_main_against_the_embedded_sandbox_prints_the_table_and_masks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([], settings=sandbox_settings(), sandbox=SandboxConfig(), environ={})

    out = capsys.readouterr().out
    assert code == 0
    assert "*********10" in out
    assert "53******67" in out
    assert re.search(r"^5a +cases query: with id +pass +200 ", out, re.MULTILINE)
    assert re.search(r"^7c +policy document +could-not-check +- ", out, re.MULTILINE)
    assert "10 pass, 0 fail, 3 could-not-check" in out
    assert_nothing_secret(out)


@pytest.mark.usefixtures("no_terminal")
def test_main_exits_1_when_a_check_fails(capsys: pytest.CaptureFixture[str]) -> None:
    other_origin = SandboxConfig(
        api_prefix="redirect-308", api_redirect_host="https://elsewhere.example"
    )
    code = main([], settings=sandbox_settings(), sandbox=other_origin)

    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"^1 +/api prefix.* +fail +308", out, re.MULTILINE)
    assert_nothing_secret(out)


def test_main_exits_0_on_a_variant_the_gateway_handles(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([], settings=sandbox_settings(), sandbox=SandboxConfig(legacy_cases_id_field=False))

    out = capsys.readouterr().out
    assert code == 0
    assert re.search(r"^5a +cases query: with id +variant +200 ", out, re.MULTILINE)
    assert "0 fail" in out and "1 variant" in out
    assert_nothing_secret(out)


def test_against_the_sandbox_without_a_terminal_the_sandbox_code_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("999999\n"))

    assert terminal_code("123456")("SMS code:") == "123456"
    assert terminal_code(None)("SMS code:") == "999999"  # a real InsurUp: read what is piped


def test_inputs_default_to_the_sandbox_customer_and_come_from_the_environment() -> None:
    assert parse_inputs([], {}, sandbox=True) == CUSTOMER
    assert parse_inputs([], {}, sandbox=False) == Inputs()
    environ = {"BFF_PROBE_IDENTITY": TCKN, "BFF_PROBE_POLICY": "pol1"}
    given = parse_inputs(
        ["--phone", "+90 532 123 45 67", "--birth-date", "1990-01-01"], environ, sandbox=False
    )
    assert given == Inputs(identity=TCKN, birth_date=date(1990, 1, 1), phone=PHONE, policy="pol1")


def test_an_invalid_identity_is_refused_without_echoing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_inputs(["--identity", "12345678901"], {}, sandbox=False)

    assert exit_.value.code == 2
    assert "12345678901" not in capsys.readouterr().err
