"""`make probe`: a read-only check of InsurUp's contract, run once by an agency against
InsurUp's test environment before going live (`python -m app.insurup.probe --help`).

It asks InsurUp what the gateway assumes but no primary source settles (reference sections
1, 3.1, 5.6, 8.2, 9.3, 12): whether `/api/...` is served or redirected, the service account's
token, the sign-in and refresh answers, whether the legacy `cases` items have `id`, and
whether the wire models parse real answers. It buys nothing and creates nothing (a sign-in
is the only thing it starts); reads it cannot set up itself take ids from the command line.

Every check is a function `(httpx.AsyncClient, Probe) -> Row`; `Probe` carries the inputs and
what earlier checks learnt (the tokens). Each row says pass, fail or could-not-check (not a
failure) with the raw HTTP statuses. Tokens, the client secret, the identity number and the
phone number are never printed: the rows never name them, and the output is scrubbed of them
once more before it is written.
"""

import argparse
import asyncio
import functools
import logging
import os
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final, Literal, TextIO

import httpx
import orjson
from pydantic import BaseModel, SecretStr, ValidationError

from app.config import Settings
from app.insurup import terms
from app.insurup.calls import InsurUpCalls, is_pdf, seg
from app.insurup.client import Agent, cases_query
from app.insurup.errors import QueryRejected, error_for_graphql
from app.insurup.models import CaseItem, Customer, LoginRequest, MfaChallenge, TokenPair, jwt_expiry
from app.insurup.policies import PolicyWire
from app.insurup.proposals import ProposalWire
from app.insurup.service_account import SCOPE, ServiceToken
from app.insurup.transport import AiohttpTransport
from app.validation import mask_identity, mask_phone, national_mobile_digits, normalize_tckn

if TYPE_CHECKING:  # the sandbox stays off the import path unless the probe runs against it
    from app.sandbox import SandboxConfig

Outcome = Literal["pass", "fail", "could-not-check", "variant"]
PASS: Final = "pass"  # noqa: S105 - an outcome, not a secret
FAIL: Final = "fail"
SKIP: Final = "could-not-check"
# InsurUp behaves one of the ways the gateway already handles (the refresh needs the access
# token; the cases items have no `id`): worth knowing, not a failure.
VARIANT: Final = "variant"

AskCode = Callable[[str], str]
"""Asks for the SMS code InsurUp sent the test customer; the prompt names the phone masked."""

SANDBOX_BASE_URL = "http://insurup.sandbox"
# The built-in sandbox's test customer (app/sandbox/README.md).
SANDBOX_IDENTITY = "11111111110"
SANDBOX_BIRTH_DATE = date(1990, 1, 1)
SANDBOX_PHONE = "5321234567"

PREFIX_PATH = "/api/vehicle-parameters/brands"
BARE_PATH = PREFIX_PATH.removeprefix("/api")
LOGIN_PATH = "/api/auth/customer/login-or-register"
VERIFY_PATH = "/api/auth/customer/verify-mfa"
REFRESH_PATH = "/api/auth/customer/refresh"
ME_PATH = "/api/customers/me"
GRAPHQL_PATH = "/graphql"
# A well-formed proposal id nobody has: a service token that may read proposals gets 404.
NO_SUCH_PROPOSAL = "0" * 24
_KEEP_METHOD_REDIRECTS = frozenset({307, 308})
_OTHER_REDIRECTS = frozenset({301, 302, 303})
_UNKNOWN_TERM = "unknown value from InsurUp"  # terms.py's log message


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report."""

    key: str  # "1", "2a", ...: the table is sorted by it
    name: str
    outcome: Outcome
    statuses: str  # the raw HTTP statuses, e.g. "308->200 bare:200"; "-" when none
    note: str


@dataclass(frozen=True, slots=True)
class Inputs:
    """The test customer and the ids of reads the probe cannot set up without buying."""

    identity: str | None = None  # an 11-digit TCKN
    birth_date: date | None = None
    phone: str | None = None  # 10 national digits, 5XXXXXXXXX
    proposal: str | None = None
    product: str | None = None
    policy: str | None = None

    @property
    def customer(self) -> bool:
        return bool(self.identity and self.birth_date and self.phone)


@dataclass(frozen=True, slots=True)
class ServiceLogin:
    client_id: str
    secret: SecretStr
    token_url: str


@dataclass(slots=True)
class Probe:
    """What the checks share: the inputs, and what earlier checks learnt (tokens rotate, so
    each check uses the pair the previous one left)."""

    inputs: Inputs
    ask_code: AskCode
    agent: Agent | None = None
    service: ServiceLogin | None = None
    document_hosts: Sequence[str] = ()
    mfa_token: str | None = None
    tokens: TokenPair | None = None
    customer_id: str | None = None
    service_token: str | None = None
    refresh_without_header: bool | None = None  # what check 4a saw
    _secrets: set[str] = field(default_factory=set)

    def remember(self, *values: str | None) -> None:
        """Values the output must never contain (scrubbed again by `render`)."""
        self._secrets.update(value for value in values if value)

    @property
    def secrets(self) -> frozenset[str]:
        found = set(self._secrets)
        inputs = self.inputs
        found.update(value for value in (inputs.identity, inputs.phone) if value)
        if inputs.phone:
            found.add("90" + inputs.phone)
        if self.service is not None:
            found.add(self.service.secret.get_secret_value())
        if self.mfa_token:
            found.add(self.mfa_token)
        if self.tokens is not None:
            found.update(t for t in (self.tokens.access_token, self.tokens.refresh_token) if t)
        if self.service_token:
            found.add(self.service_token)
        return frozenset(found)

    @property
    def access_token(self) -> str | None:
        return self.tokens.access_token if self.tokens is not None else None


# -- talking to InsurUp ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """InsurUp's final answer to one call, and every status on the way (redirects first)."""

    response: httpx.Response
    chain: tuple[int, ...]
    location: str | None = None  # where a redirect pointed (shown without its query)
    followed: bool = False

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def statuses(self) -> str:
        return "->".join(str(status) for status in self.chain)

    def body(self) -> object:
        """The JSON body, or None when there is none or it is not JSON."""
        try:
            parsed: object = orjson.loads(self.response.content)
        except orjson.JSONDecodeError:
            return None
        return parsed


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    token: str | None = None,
    json: object | None = None,
    follow: bool = True,
) -> Answer:
    """One call as the gateway makes it (`calls.py`): a 307/308 to the same origin is followed
    once with method, body and token unchanged; any other redirect is only reported."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = None if json is None else orjson.dumps(json)
    if content is not None:
        headers["Content-Type"] = "application/json"
    response = await http.request(method, url, content=content, headers=headers)
    status = response.status_code
    if status not in _KEEP_METHOD_REDIRECTS | _OTHER_REDIRECTS:
        return Answer(response, (status,))
    target = _redirect_target(response)
    location = _shown(response, target)
    if not follow or status not in _KEEP_METHOD_REDIRECTS or target is None:
        return Answer(response, (status,), location)
    if not _same_origin(response.request.url, target):
        return Answer(response, (status,), location)
    final = await http.request(method, target, content=content, headers=headers)
    return Answer(final, (status, final.status_code), location, followed=True)


def _redirect_target(response: httpx.Response) -> httpx.URL | None:
    location = response.headers.get("location")
    if not location:
        return None
    try:
        return response.request.url.join(location)
    except httpx.InvalidURL:
        return None


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _shown(response: httpx.Response, target: httpx.URL | None) -> str | None:
    """A redirect's target for the report: the path on the same origin, else origin and path;
    never the query (it may carry anything)."""
    if target is None:
        return None
    if _same_origin(response.request.url, target):
        return target.path
    port = f":{target.port}" if target.port else ""
    return f"{target.scheme}://{target.host}{port}{target.path}"


def _problem(answer: Answer) -> str:
    """What an error answer says, in words safe to print: problem `codes` and `title`, or an
    OAuth `error`; never `detail` or validation messages (they may echo what was sent)."""
    if answer.status in _KEEP_METHOD_REDIRECTS | _OTHER_REDIRECTS:
        where = answer.location or "(no Location)"
        return f"{answer.status} to {where}, not followed (the gateway would not either)"
    body = answer.body()
    if not isinstance(body, dict):
        return f"HTTP {answer.status}"
    codes = body.get("codes")
    parts = [str(body["error"])] if isinstance(body.get("error"), str) else []
    if isinstance(codes, list) and codes:
        parts.append(",".join(str(code) for code in codes[:3]))
    if isinstance(body.get("title"), str):
        parts.append(str(body["title"])[:60])
    return "; ".join(parts) or f"HTTP {answer.status}"


def _keys(body: object) -> str:
    return ", ".join(sorted(body)) if isinstance(body, dict) and body else "none"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _parsed(model: type[BaseModel], data: object) -> bool:
    try:
        model.model_validate(data)
    except ValidationError:  # never shown: its text holds the values
        return False
    return True


# -- the checks ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    note: str
    statuses: str = "-"


def passed(note: str, statuses: str = "-") -> Verdict:
    return Verdict(PASS, note, statuses)


def failed(note: str, statuses: str = "-") -> Verdict:
    return Verdict(FAIL, note, statuses)


def unchecked(note: str, statuses: str = "-") -> Verdict:
    return Verdict(SKIP, note, statuses)


def handled_variant(note: str, statuses: str = "-") -> Verdict:
    return Verdict(VARIANT, note, statuses)


Check = Callable[[httpx.AsyncClient, Probe], Awaitable[Row]]
"""A check: what it finds out, as a row of the report."""
_Judge = Callable[[httpx.AsyncClient, Probe], Awaitable[Verdict]]


def check(key: str, name: str) -> Callable[[_Judge], Check]:
    """Makes a verdict function a check: its row carries `key` and `name`, and a call that
    got no answer (or a probe bug) is a failed row, not a crash."""

    def wrap(verdict_of: _Judge) -> Check:
        @functools.wraps(verdict_of)
        async def run(http: httpx.AsyncClient, probe: Probe) -> Row:
            try:
                verdict = await verdict_of(http, probe)
            except httpx.TransportError as exc:
                verdict = failed(f"no answer from InsurUp ({type(exc).__name__})")
            except Exception as exc:  # a bug here must not end the report; never its text
                verdict = failed(f"the probe broke ({type(exc).__name__})")
            return Row(key, name, verdict.outcome, verdict.statuses, verdict.note)

        return run

    return wrap


@check("1", "/api prefix")
async def check_api_prefix(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`GET /api/vehicle-parameters/brands`: served, or redirected (307/308, where to), and
    the bare path beside it (reference 0.2, 9.3, 12.11)."""
    token = probe.access_token
    api = await send(http, "GET", PREFIX_PATH, token=token)
    bare = await send(http, "GET", BARE_PATH, token=token, follow=False)
    statuses = f"{api.statuses} bare:{bare.status}"
    beside = "bare path answers 200 too" if bare.status == 200 else f"bare path {bare.status}"
    first = api.chain[0]
    if token is None and (api.followed or first not in _KEEP_METHOD_REDIRECTS):
        # Without the customer's token only a redirect that cannot work is a finding.
        seen = f"{first} to {api.location}" if api.followed else str(first)
        return unchecked(f"needs the customer's token (check 3); without one: {seen}", statuses)
    if first == 200:
        return passed(f"/api/... served directly; {beside}", statuses)
    if first in _KEEP_METHOD_REDIRECTS:
        where = api.location or "(no Location)"
        if not api.followed:
            return failed(
                f"/api/... answers {first} to {where}: not the same origin, the gateway "
                "will not follow it (set BFF_INSURUP_BASE_URL to where it points)",
                statuses,
            )
        if api.status == 200:
            return passed(
                f"/api/... answers {first} to {where}; the gateway follows it (same origin, "
                f"once, method and body kept); {beside}",
                statuses,
            )
        return failed(f"{first} to {where}, which answered {api.status}", statuses)
    if first in _OTHER_REDIRECTS:
        return failed(
            f"/api/... answers {first} to {api.location}: the gateway follows only 307/308 "
            "(a 301/302/303 turns a POST into a GET)",
            statuses,
        )
    if bare.status == 200:
        return failed(f"/api/... answered {first}; only the bare path works", statuses)
    return failed(f"/api/... answered {first}: {_problem(api)}", statuses)


@check("2a", "service account token")
async def check_service_token(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`POST {auth}/connect/token` (client credentials): `{access_token, token_type,
    expires_in}` (reference 9.3)."""
    account = probe.service
    if account is None:
        return unchecked(
            "no service account (BFF_INSURUP_CLIENT_ID/SECRET): payments are then checked "
            "only while their customer's session lives"
        )
    form = {
        "grant_type": "client_credentials",
        "client_id": account.client_id,
        "client_secret": account.secret.get_secret_value(),
        "scope": SCOPE,
    }
    response = await http.post(account.token_url, data=form)
    answer = Answer(response, (response.status_code,))
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"token endpoint answered {_problem(answer)}", statuses)
    body = answer.body()
    if not isinstance(body, dict):
        return failed("the answer is not a JSON object", statuses)
    token = body.get("access_token")
    if isinstance(token, str):
        probe.service_token = token
        probe.remember(token)
    probe.remember(*(v for v in body.values() if isinstance(v, str) and len(v) > 16))
    if not _parsed(ServiceToken, body):
        return failed(f"no usable access_token/expires_in (keys: {_keys(body)})", statuses)
    kind = body.get("token_type")
    if isinstance(kind, str) and kind.lower() != "bearer":
        return failed(f"token_type is {kind!r}, not Bearer", statuses)
    missing = [name for name in ("token_type", "expires_in") if name not in body]
    shape = f"keys: {_keys(body)}"
    if missing:
        shape += f"; no {', '.join(missing)} (the gateway assumes Bearer / 1800 s)"
    else:
        shape += f"; expires_in {body['expires_in']}"
    if "refresh_token" in body:
        shape += "; a refresh_token came too (unused)"
    return passed(shape, statuses)


@check("2b", "service account read")
async def check_service_read(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """A read with the service token: the --proposal or --policy given, else a made-up
    proposal id (404 = token accepted). Payment checks without a customer need this."""
    if probe.service_token is None:
        return unchecked("no service token (check 2a)")
    inputs = probe.inputs
    wire: type[BaseModel] | None
    if inputs.proposal:
        what, path, wire = "proposal", f"/api/proposals/{seg(inputs.proposal)}", ProposalWire
    elif inputs.policy:
        what, path, wire = "policy", f"/api/policies/{seg(inputs.policy)}", PolicyWire
    else:
        what, path, wire = "made-up proposal", f"/api/proposals/{NO_SUCH_PROPOSAL}", None
    answer = await send(http, "GET", path, token=probe.service_token)
    statuses = answer.statuses
    if answer.status == 401:
        return failed(f"the service token was refused ({_problem(answer)})", statuses)
    if answer.status == 403:
        return failed(
            "the account may not read proposals/policies: give it that role in the Agent "
            "Panel (the gateway verifies payments with it)",
            statuses,
        )
    if wire is None:
        if answer.status == 404:
            return passed("token accepted: a made-up proposal id answers 404", statuses)
        return failed(f"a made-up proposal id answered {answer.status}", statuses)
    if answer.status != 200:
        return failed(f"GET {what} answered {_problem(answer)}", statuses)
    if not _parsed(wire, answer.body()):
        return failed(f"the {what} does not parse into {wire.__name__}", statuses)
    return passed(f"the {what} reads with the service token and parses", statuses)


@check("3a", "sign-in: login answer")
async def check_login(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`login-or-register` with the gateway's own body: an MFA token (variant A) or tokens
    directly (variant B), reference 1.1."""
    inputs = probe.inputs
    if not inputs.customer:
        return unchecked("no test customer (--identity, --birth-date, --phone)")
    if probe.agent is None:
        return unchecked("no BFF_INSURUP_AGENT_ID")
    assert inputs.identity and inputs.phone  # for the type checker: `customer` says so
    request = LoginRequest(
        kind="individual",
        identity_number=inputs.identity,
        phone_national=inputs.phone,
        birth_date=inputs.birth_date,
        agent_id=probe.agent.agent_id,
        agent_branch_id=probe.agent.branch_id,
    )
    answer = await send(http, "POST", LOGIN_PATH, json=request.to_wire())
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"sign-in answered {_problem(answer)}", statuses)
    body = answer.body()
    keys = _keys(body)
    if isinstance(body, dict) and body.get("accessToken"):
        probe.remember(*(v for v in body.values() if isinstance(v, str)))
        try:
            pair = TokenPair.model_validate(body)
        except ValidationError:
            return failed(f"direct tokens that do not parse (keys: {keys})", statuses)
        probe.tokens = pair
        probe.customer_id = pair.customer_id
        return passed(f"direct tokens, no SMS step (variant B; keys: {keys})", statuses)
    if isinstance(body, dict):
        probe.remember(*(v for v in body.values() if isinstance(v, str) and len(v) > 16))
    try:
        challenge = MfaChallenge.model_validate(body)
    except ValidationError:
        return failed(f"neither accessToken nor an MFA token (keys: {keys})", statuses)
    probe.mfa_token = challenge.token
    probe.customer_id = challenge.customer_id
    return passed(f"MFA token (variant A; keys: {keys})", statuses)


@check("3b", "sign-in: verify-mfa answer")
async def check_verify_mfa(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`verify-mfa` with the SMS code: the gateway's `TokenPair` must parse it; whether
    `expiresIn` and `customerId` come and the JWT has `exp` (reference 1.2)."""
    if probe.mfa_token is None:
        if probe.tokens is not None:
            return unchecked("the login answered tokens directly: no SMS step to verify")
        return unchecked("no MFA token (check 3a)")
    phone = mask_phone(probe.inputs.phone or "")
    code = probe.ask_code(f"SMS code sent to {phone}:").strip()
    if not code:
        return unchecked("no SMS code entered")
    answer = await send(http, "POST", VERIFY_PATH, json={"token": probe.mfa_token, "code": code})
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"verify-mfa answered {_problem(answer)}", statuses)
    body = answer.body()
    if isinstance(body, dict):
        probe.remember(*(v for v in body.values() if isinstance(v, str)))
    try:
        pair = TokenPair.model_validate(body)
    except ValidationError:
        return failed(f"TokenPair does not parse it (keys: {_keys(body)})", statuses)
    probe.tokens = pair
    probe.mfa_token = None  # used up
    probe.customer_id = pair.customer_id or probe.customer_id
    note = (
        f"TokenPair parses; expiresIn: {_yes(pair.expires_in is not None)}, "
        f"customerId: {_yes(pair.customer_id is not None)}, "
        f"refreshToken: {_yes(pair.refresh_token is not None)}, "
        f"JWT exp: {_yes(jwt_expiry(pair.access_token) is not None)}"
    )
    if pair.expires_in is None and jwt_expiry(pair.access_token) is None:
        note += " (the gateway assumes 600 s)"
    return passed(note, statuses)


async def _refresh(http: httpx.AsyncClient, probe: Probe, *, header: bool) -> Verdict:
    pair = probe.tokens
    if pair is None:
        return unchecked("not signed in (check 3)")
    if not pair.refresh_token:
        return unchecked("the sign-in answer had no refreshToken")
    answer = await send(
        http,
        "POST",
        REFRESH_PATH,
        token=pair.access_token if header else None,
        json={"refreshToken": pair.refresh_token},
    )
    statuses = answer.statuses
    accepted = answer.status == 200
    body = answer.body()
    if accepted and isinstance(body, dict):
        probe.remember(*(v for v in body.values() if isinstance(v, str)))
    if accepted:
        try:
            new = TokenPair.model_validate(body)
        except ValidationError:
            return failed(f"200, but TokenPair does not parse it (keys: {_keys(body)})", statuses)
        # As the reference site does: keep the old refresh token if no new one came.
        rotated = bool(new.refresh_token) and new.refresh_token != pair.refresh_token
        probe.tokens = (
            new
            if new.refresh_token
            else new.model_copy(update={"refresh_token": pair.refresh_token})
        )
        expires = _yes(new.expires_in is not None)
        shape = f"new pair; refreshToken rotated: {_yes(rotated)}; expiresIn: {expires}"
    else:
        shape = _problem(answer)
    if not header:
        probe.refresh_without_header = accepted
        if accepted:
            return passed(f"accepted without the header; {shape}", statuses)
        return handled_variant(
            f"refused without the header ({shape}): InsurUp needs it; the gateway sends it",
            statuses,
        )
    before = probe.refresh_without_header
    if accepted:
        if before is False:
            return passed(f"accepted with the header: InsurUp requires it; {shape}", statuses)
        return passed(
            f"accepted with the header too: InsurUp does not need it and takes it; {shape}",
            statuses,
        )
    if before:
        return failed(
            f"refused with the header ({shape}): the gateway must stop sending it "
            "(InsurUpClient.refresh)",
            statuses,
        )
    return failed(
        f"refused with the header too ({shape}); a refused call may have used up the token",
        statuses,
    )


@check("4a", "refresh: body only")
async def check_refresh_body_only(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`refresh` with `{refreshToken}` and no `Authorization` (reference 1.3, 12.2)."""
    return await _refresh(http, probe, header=False)


@check("4b", "refresh: with Bearer")
async def check_refresh_with_header(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`refresh` with the body and `Authorization: Bearer <access token>`, as the gateway
    sends it, using the pair check 4a left. The token sent is still live; the gateway's may
    have lapsed (a session idle past ten minutes), which the probe cannot wait for."""
    return await _refresh(http, probe, header=True)


async def _cases(http: httpx.AsyncClient, probe: Probe, *, with_id: bool) -> Verdict:
    token = probe.access_token
    if token is None:
        return unchecked("not signed in (check 3)")
    if probe.customer_id is None:
        return unchecked("no customer id (neither the sign-in nor customers/me gave one)")
    query = cases_query(probe.customer_id, with_id=with_id)
    answer = await send(http, "POST", GRAPHQL_PATH, token=token, json={"query": query})
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"HTTP {answer.status}: {_problem(answer)}", statuses)
    body = answer.body()
    if not isinstance(body, dict):
        return failed("the answer is not a JSON object", statuses)
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        codes = sorted(
            {str(e.get("extensions", {}).get("code", "?")) for e in errors if isinstance(e, dict)}
        )
        if isinstance(error_for_graphql(errors), QueryRejected):
            if with_id:
                return handled_variant(
                    f"`id` is not a field of the cases items ({', '.join(codes)}); the gateway "
                    "then asks without it",
                    statuses,
                )
            return failed(f"the query itself was refused ({', '.join(codes)})", statuses)
        return failed(f"errors: {', '.join(codes)}", statuses)
    data = body.get("data")
    cases = data.get("cases") if isinstance(data, dict) else None
    items = cases.get("items") if isinstance(cases, dict) else None
    if not isinstance(items, list):
        return failed("no data.cases.items list", statuses)
    if not all(isinstance(item, dict) and _parsed(CaseItem, item) for item in items):
        return failed("an item does not parse into CaseItem", statuses)
    total = cases.get("totalCount") if isinstance(cases, dict) else None
    note = f"{len(items)} item(s), totalCount {total}"
    if with_id:
        carried = all(isinstance(item.get("id"), str) for item in items)
        note = f"`id` is a known field; {note}" + ("" if carried else "; some items lack id")
    return passed(note, statuses)


@check("5a", "cases query: with id")
async def check_cases_with_id(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """The gateway's legacy `cases` query selecting `id` too (reference 3.1)."""
    return await _cases(http, probe, with_id=True)


@check("5b", "cases query: without id")
async def check_cases_without_id(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """The same query with the guide's fields only (the gateway's fallback)."""
    return await _cases(http, probe, with_id=False)


@check("6", "customers/me")
async def check_customer_me(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`GET /api/customers/me` parses into the gateway's `Customer` (reference 2.1, 12.3)."""
    token = probe.access_token
    if token is None:
        return unchecked("not signed in (check 3)")
    answer = await send(http, "GET", ME_PATH, token=token)
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"answered {_problem(answer)}", statuses)
    try:
        customer = Customer.model_validate(answer.body())
    except ValidationError:
        return failed(f"Customer does not parse it (keys: {_keys(answer.body())})", statuses)
    if customer.kind is not None:
        discriminator = f"$type={customer.kind}"
    elif customer.type_ is not None:
        discriminator = f"type={customer.type_}"
    else:
        discriminator = "no $type/type (the gateway assumes individual)"
    same = probe.customer_id is None or probe.customer_id == customer.id
    probe.customer_id = probe.customer_id or customer.id
    note = f"Customer parses; {discriminator}; phone: {_yes(customer.national_phone is not None)}"
    if not same:
        return failed(note + "; its id differs from the sign-in's customerId", statuses)
    return passed(note, statuses)


@contextmanager
def _unknown_terms() -> Iterator[list[str]]:
    """The enum values terms.py does not know, as it logs them while a model parses (each
    value once per process)."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage() == _UNKNOWN_TERM:
                found.append(f"{getattr(record, 'kind', '?')}={getattr(record, 'value', '?')}")

    handler = Collect(logging.WARNING)
    terms.log.addHandler(handler)
    try:
        yield found
    finally:
        terms.log.removeHandler(handler)


@check("7a", "proposal read")
async def check_proposal(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`GET /api/proposals/{id}` (--proposal) parses into `ProposalWire`; InsurUp's enum
    values the gateway does not know are listed (reference 5.2)."""
    proposal = probe.inputs.proposal
    if not proposal:
        return unchecked("no --proposal given (the probe never creates one)")
    token = probe.access_token
    if token is None:
        return unchecked("not signed in (check 3)")
    answer = await send(http, "GET", f"/api/proposals/{seg(proposal)}", token=token)
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"answered {_problem(answer)}", statuses)
    with _unknown_terms() as unknown:
        try:
            wire = ProposalWire.model_validate(answer.body())
        except ValidationError:
            return failed("ProposalWire does not parse it", statuses)
        states = Counter(product.state for product in wire.products)
        for product in wire.products:  # every term read once: an unknown one is reported
            _ = product.kind, product.payment_methods, [p.currency for p in product.premiums]
    shown = ", ".join(f"{state} {count}" for state, count in sorted(states.items()))
    note = f"ProposalWire parses; {len(wire.products)} product(s): {shown or 'none'}"
    if unknown:
        return failed(f"{note}; unknown to terms.py: {', '.join(unknown)}", statuses)
    return passed(note + "; no unknown enum values", statuses)


async def _document(http: httpx.AsyncClient, probe: Probe, path: str) -> Verdict:
    """A document call answers the PDF itself or `{url}`; the URL must be one the gateway
    may fetch (BFF_DOCUMENT_HOSTS), and what it serves a PDF."""
    token = probe.access_token
    if token is None:
        return unchecked("not signed in (check 3)")
    answer = await send(http, "GET", path, token=token)
    statuses = answer.statuses
    if answer.status != 200:
        return failed(f"answered {_problem(answer)}", statuses)
    if is_pdf(answer.response):
        if not answer.response.content.startswith(b"%PDF"):
            return failed("says PDF, but the bytes are not one", statuses)
        return passed(f"the PDF itself ({len(answer.response.content)} bytes)", statuses)
    body = answer.body()
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        return failed(f"neither a PDF nor {{url}} (keys: {_keys(body)})", statuses)
    probe.remember(url)  # a pre-signed address is a credential of sorts
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL:
        return failed("{url} is not a URL", statuses)
    host = parts.host or "?"
    if not InsurUpCalls(http, document_hosts=probe.document_hosts).may_follow(url):
        return failed(
            f"{{url}} on {host}, which the gateway will not fetch: add it to BFF_DOCUMENT_HOSTS "
            "(https only)",
            statuses,
        )
    file = await send(http, "GET", url)
    statuses = f"{statuses} file:{file.statuses}"
    if file.status != 200:
        return failed(f"{{url}} on {host}; the file answered {file.status}", statuses)
    if not file.response.content.startswith(b"%PDF"):
        return failed(f"{{url}} on {host}; the file is not a PDF", statuses)
    return passed(f"{{url}} on {host}; the file is a PDF", statuses)


@check("7b", "information form")
async def check_information_form(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`.../products/{ppid}/information-form` (--proposal, --product): `{url}` or a PDF
    (reference 5.6)."""
    inputs = probe.inputs
    if not (inputs.proposal and inputs.product):
        return unchecked("needs --proposal and --product")
    path = f"/api/proposals/{seg(inputs.proposal)}/products/{seg(inputs.product)}/information-form"
    return await _document(http, probe, path)


@check("7c", "policy document")
async def check_policy_document(http: httpx.AsyncClient, probe: Probe) -> Verdict:
    """`GET /api/policies/{id}/document` (--policy): `{url}` or a PDF (reference 8.2)."""
    if not probe.inputs.policy:
        return unchecked("no --policy given (the probe never buys)")
    return await _document(http, probe, f"/api/policies/{seg(probe.inputs.policy)}/document")


CHECKS: tuple[Check, ...] = (
    check_service_token,
    check_service_read,
    check_login,
    check_verify_mfa,
    check_api_prefix,  # with the customer's token
    check_refresh_body_only,
    check_refresh_with_header,
    check_customer_me,  # before the cases query: it may supply the customer id
    check_cases_with_id,
    check_cases_without_id,
    check_proposal,
    check_information_form,
    check_policy_document,
)
"""In the order they run (the report is sorted by check number)."""


async def run_checks(
    http: httpx.AsyncClient, probe: Probe, checks: Sequence[Check] = CHECKS
) -> list[Row]:
    return [await run(http, probe) for run in checks]


# -- the report ------------------------------------------------------------------------------

_COLUMNS = (("#", 3), ("check", 27), ("result", 15), ("http", 18))


def scrub(text: str, secrets: frozenset[str]) -> str:
    """`text` without any of `secrets` (longest first, so no part of one survives)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def render(rows: Sequence[Row], *, heading: Sequence[str] = (), secrets: frozenset[str]) -> str:
    head = " ".join(f"{title:<{width}}" for title, width in _COLUMNS) + " note"
    lines = [*heading, "", head, "-" * 100]
    for row in sorted(rows, key=lambda r: r.key):
        cells = (row.key, row.name, row.outcome, row.statuses)
        line = " ".join(f"{cell:<{w}}" for cell, (_, w) in zip(cells, _COLUMNS, strict=True))
        lines.append(f"{line} {row.note}")
    counts = Counter(row.outcome for row in rows)
    lines += [
        "-" * 100,
        f"{counts[PASS]} pass, {counts[FAIL]} fail, {counts[SKIP]} could-not-check, "
        f"{counts[VARIANT]} variant (neither could-not-check nor a variant the gateway handles "
        "is a failure)",
    ]
    return scrub("\n".join(lines), secrets) + "\n"


def exit_code(rows: Sequence[Row]) -> int:
    return 1 if any(row.outcome == FAIL for row in rows) else 0


# -- the command -----------------------------------------------------------------------------

_ENV = "BFF_PROBE_"


def _parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app.insurup.probe",
        description=(
            "Read-only check of InsurUp's contract with the gateway's settings (BFF_INSURUP_*). "
            "Buys nothing and creates no proposal. Each option can also come from the "
            f"environment as {_ENV}<NAME> (e.g. {_ENV}IDENTITY). Against the built-in sandbox "
            "the sandbox's test customer is the default."
        ),
    )

    def option(name: str, help_text: str) -> None:
        variable = _ENV + name.upper().replace("-", "_")
        parser.add_argument(f"--{name}", default=environ.get(variable) or None, help=help_text)

    option("identity", "the test customer's TCKN (never printed)")
    option("birth-date", "the test customer's birth date, YYYY-MM-DD")
    option("phone", "the test customer's mobile number, e.g. 5321234567 (never printed)")
    option("proposal", "an existing proposal id of that customer, for the read checks")
    option("product", "a priced product id of that proposal, for the information form")
    option("policy", "an existing policy id of that customer, for its document")
    return parser


def parse_inputs(
    argv: Sequence[str] | None, environ: Mapping[str, str], *, sandbox: bool
) -> Inputs:
    parser = _parser(environ)
    args = parser.parse_args(argv)
    identity: str | None = args.identity
    birth: str | None = args.birth_date
    phone: str | None = args.phone
    if sandbox and not (identity or birth or phone):
        identity, birth, phone = SANDBOX_IDENTITY, SANDBOX_BIRTH_DATE.isoformat(), SANDBOX_PHONE
    try:
        identity = normalize_tckn(identity) if identity else None
    except ValueError:
        parser.error("--identity is not a valid TCKN")
    try:
        phone = national_mobile_digits(phone) if phone else None
    except ValueError:
        parser.error("--phone is not a Turkish mobile number")
    try:
        birth_date = date.fromisoformat(birth) if birth else None
    except ValueError:
        parser.error("--birth-date must be YYYY-MM-DD")
    return Inputs(
        identity=identity,
        birth_date=birth_date,
        phone=phone,
        proposal=args.proposal,
        product=args.product,
        policy=args.policy,
    )


def terminal_code(sandbox_code: str | None) -> AskCode:
    """Asks on the terminal (prompt on stderr). Against the sandbox, with no terminal
    attached, the sandbox's code is the answer; Enter takes it too."""

    def ask(prompt: str) -> str:
        stdin = sys.stdin
        if sandbox_code is not None and (stdin is None or not stdin.isatty()):
            return sandbox_code
        hint = f" [sandbox: Enter for {sandbox_code}]" if sandbox_code else ""
        sys.stderr.write(f"{prompt}{hint} ")
        sys.stderr.flush()
        answer = stdin.readline().strip() if stdin is not None else ""
        if stdin is None or not stdin.isatty():
            sys.stderr.write("\n")  # a piped answer left the prompt's line open
        return answer or sandbox_code or ""

    return ask


@dataclass(frozen=True, slots=True)
class Target:
    http: httpx.AsyncClient
    description: str
    sandbox_code: str | None  # the sandbox's SMS code; None for a real InsurUp


@asynccontextmanager
async def open_insurup(
    settings: Settings, *, request_id: str, sandbox: "SandboxConfig | None" = None
) -> AsyncIterator[Target]:
    """The HTTP client the checks use: the gateway's transport to a real InsurUp, or an
    in-process sandbox (`sandbox` overrides the SANDBOX_* environment knobs)."""
    headers = {
        "User-Agent": f"{settings.insurup_user_agent} probe",
        "Accept": "application/json",
        "Accept-Language": "tr-TR",
        "X-Request-ID": request_id,
    }
    timeout = httpx.Timeout(settings.insurup_timeout_seconds)
    if not settings.uses_sandbox:
        transport = AiohttpTransport(
            max_connections=4, keepalive_expiry=settings.insurup_keepalive_seconds
        )
        async with httpx.AsyncClient(
            base_url=settings.insurup_base_url,
            transport=transport,
            timeout=timeout,
            headers=headers,
        ) as http:
            yield Target(http, settings.insurup_base_url, None)
        return
    from app.sandbox import create_sandbox_app, get_sandbox_state
    from app.sandbox.config import config_from_env

    config = sandbox or config_from_env(os.environ)
    app = create_sandbox_app(config)
    try:
        async with httpx.AsyncClient(
            base_url=SANDBOX_BASE_URL,
            transport=httpx.ASGITransport(app=app),
            timeout=timeout,
            headers=headers,
        ) as http:
            yield Target(http, "the built-in sandbox, in process", config.mfa_code)
    finally:
        await get_sandbox_state(app).webhooks.aclose()


def probe_for(settings: Settings, inputs: Inputs, *, ask_code: AskCode, base_url: str) -> Probe:
    """The probe's context from the gateway's settings, as `app.wiring` reads them."""
    agent_id = settings.insurup_agent_id
    if agent_id is None and settings.uses_sandbox:
        from app.sandbox import DEMO_AGENT_ID

        agent_id = DEMO_AGENT_ID
    agent = Agent(agent_id, settings.insurup_agent_branch_id) if agent_id else None
    service = None
    if settings.service_account is not None:
        client_id, secret, auth_url = settings.service_account
        token_url = (auth_url or base_url).rstrip("/") + "/connect/token"
        service = ServiceLogin(client_id, secret, token_url)
    return Probe(
        inputs=inputs,
        ask_code=ask_code,
        agent=agent,
        service=service,
        document_hosts=tuple(settings.document_host_patterns),
    )


def _heading(target: Target, probe: Probe, request_id: str) -> list[str]:
    inputs = probe.inputs
    customer = (
        f"{mask_identity(inputs.identity or '')}, phone {mask_phone(inputs.phone or '')}"
        if inputs.customer
        else "none given"
    )
    service = probe.service.client_id if probe.service else "none"
    ids = [
        f"{name} {value}"
        for name, value in (
            ("proposal", inputs.proposal),
            ("product", inputs.product),
            ("policy", inputs.policy),
        )
        if value
    ]
    return [
        "InsurUp contract probe (read-only: buys nothing, creates no proposal)",
        f"  InsurUp:          {target.description}",
        f"  agent:            {probe.agent.agent_id if probe.agent else 'none'}",
        f"  customer:         {customer}",
        f"  service account:  {service}",
        f"  reads:            {', '.join(ids) or 'none given (checks 7 need ids)'}",
        f"  X-Request-ID:     {request_id} (on every call, for InsurUp's support)",
    ]


async def probe_insurup(
    settings: Settings,
    inputs: Inputs,
    *,
    ask_code: AskCode | None = None,
    sandbox: "SandboxConfig | None" = None,
    out: TextIO | None = None,
) -> int:
    """Runs every check, prints the table, returns the exit code."""
    request_id = f"probe-{uuid.uuid4().hex[:16]}"
    async with open_insurup(settings, request_id=request_id, sandbox=sandbox) as target:
        ask = ask_code or terminal_code(target.sandbox_code)
        probe = probe_for(settings, inputs, ask_code=ask, base_url=str(target.http.base_url))
        rows = await run_checks(target.http, probe)
    report = render(rows, heading=_heading(target, probe, request_id), secrets=probe.secrets)
    (out or sys.stdout).write(report)
    return exit_code(rows)


def main(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    sandbox: "SandboxConfig | None" = None,
    ask_code: AskCode | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """0: nothing failed; 1: a check failed; 2: the settings or options are not usable."""
    if settings is None:
        try:
            settings = Settings()
        except ValidationError as exc:  # its text may hold the values: name the fields only
            names = sorted({".".join(str(part) for part in error["loc"]) for error in exc.errors()})
            sys.stderr.write(f"the gateway's settings are not valid: {', '.join(names)}\n")
            return 2
    inputs = parse_inputs(
        argv, os.environ if environ is None else environ, sandbox=settings.uses_sandbox
    )
    return asyncio.run(probe_insurup(settings, inputs, ask_code=ask_code, sandbox=sandbox))


if __name__ == "__main__":
    sys.exit(main())
