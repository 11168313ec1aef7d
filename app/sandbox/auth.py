"""Customer authentication (reference section 1): login-or-register, verify-mfa, refresh,
and the bearer-token check every other endpoint uses."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from .config import Operation
from .enums import ConsentType, CustomerKind
from .faults import inject_faults
from .identity import is_valid_tckn, is_valid_vkn
from .problems import ProblemError, ValidationIssue
from .state import (
    Customer,
    PhoneNumber,
    RefreshRejectedError,
    SandboxState,
    ServiceAccount,
    TokenPair,
    TokenRejectedError,
)
from .validation import (
    DateOnly,
    DigitInt,
    DigitString,
    Guid,
    WireModel,
    parse_body,
    read_json_object,
)

SEED_SHAPE_HINTS = {
    "type": (
        "'type' is not a property; the discriminator is '$type' (individual | company | foreign)."
    ),
    "birthday": "'birthday' is not a property; send 'birthDate' as YYYY-MM-DD.",
    "phoneNumber": (
        '\'phoneNumber\' must be an object like {"countryCode": 90, "number": "5321234567"}.'
    ),
}


class PhoneNumberBody(WireModel):
    country_code: DigitInt = Field(alias="countryCode", ge=1, le=999)
    number: str = Field(strict=True)


class _LoginBody(WireModel):
    kind: CustomerKind = Field(alias="$type")
    phone_number: PhoneNumberBody = Field(alias="phoneNumber")
    agent_id: Guid = Field(alias="agentId")
    agent_branch_id: str | None = Field(default=None, alias="agentBranchId", strict=True)
    approved_consent_types: list[ConsentType] | None = Field(
        default=None, alias="approvedConsentTypes"
    )
    """Checked beforehand by `consent_issues` (400, not 422)."""


class PersonLoginBody(_LoginBody):
    """`individual` and `foreign` customers."""

    identity_number: DigitString = Field(alias="identityNumber")
    birth_date: DateOnly | None = Field(default=None, alias="birthDate")


class CompanyLoginBody(_LoginBody):
    tax_number: DigitString = Field(alias="taxNumber")


class VerifyMfaBody(WireModel):
    token: str = Field(strict=True, min_length=1)
    code: str = Field(strict=True)


class RefreshBody(WireModel):
    refresh_token: str = Field(alias="refreshToken", strict=True, min_length=1)


def _login_number_issues(
    state: SandboxState, body: PersonLoginBody | CompanyLoginBody
) -> list[ValidationIssue]:
    issues: list[ValidationIssue] = []
    phone = body.phone_number
    if not (phone.number.isascii() and phone.number.isdigit()):
        issues.append(
            ValidationIssue(
                "phoneNumber.number", "'phoneNumber.number' must be digits.", phone.number
            )
        )
    elif phone.country_code == 90 and (len(phone.number) != 10 or phone.number[0] == "0"):
        issues.append(
            ValidationIssue(
                "phoneNumber.number",
                "'phoneNumber.number' must be 10 digits without the country code or a leading 0.",
                phone.number,
            )
        )
    elif not 4 <= len(phone.number) <= 14:
        issues.append(
            ValidationIssue(
                "phoneNumber.number", "'phoneNumber.number' has an invalid length.", phone.number
            )
        )
    checks = state.config.validate_identity_checksums
    if isinstance(body, CompanyLoginBody):
        if checks and not is_valid_vkn(body.tax_number):
            issues.append(
                ValidationIssue(
                    "taxNumber", "'taxNumber' is not a valid tax number (VKN).", body.tax_number
                )
            )
    elif body.kind is CustomerKind.INDIVIDUAL:
        if checks and not is_valid_tckn(body.identity_number):
            issues.append(
                ValidationIssue(
                    "identityNumber",
                    "'identityNumber' is not a valid Turkish identity number (TCKN).",
                    body.identity_number,
                )
            )
    elif not 5 <= len(body.identity_number) <= 20:
        issues.append(
            ValidationIssue(
                "identityNumber", "'identityNumber' has an invalid length.", body.identity_number
            )
        )
    return issues


CONSENTS_FIELD = "approvedConsentTypes"
_CONSENT_VALUES = frozenset(c.value for c in ConsentType)


def consent_issues(raw: dict[str, object]) -> list[ValidationIssue]:
    """`approvedConsentTypes`: null or an array of `KVKK` / `ETK` (400 otherwise)."""
    value = raw.get(CONSENTS_FIELD)
    if value is None:
        return []
    known = ", ".join(c.value for c in ConsentType)
    if not isinstance(value, list):
        return [
            ValidationIssue(
                CONSENTS_FIELD,
                f"'{CONSENTS_FIELD}' must be an array of ConsentType ({known}).",
                value,
            )
        ]
    return [
        ValidationIssue(
            f"{CONSENTS_FIELD}[{index}]",
            f"'{CONSENTS_FIELD}[{index}]' must be a ConsentType ({known}).",
            item,
        )
        for index, item in enumerate(value)
        if not (isinstance(item, str) and item in _CONSENT_VALUES)
    ]


def parse_login_body(
    state: SandboxState, raw: dict[str, object]
) -> PersonLoginBody | CompanyLoginBody:
    consents = consent_issues(raw)
    if consents:
        raise ProblemError.input_validation(consents, status=400)
    model: type[PersonLoginBody | CompanyLoginBody] = (
        CompanyLoginBody if raw.get("$type") == CustomerKind.COMPANY.value else PersonLoginBody
    )
    body = parse_body(model, raw, SEED_SHAPE_HINTS)
    issues = _login_number_issues(state, body)
    if issues:
        raise ProblemError.input_validation(issues)
    return body


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def identify(state: SandboxState, request: Request) -> Customer | ServiceAccount:
    """The customer or service account behind `Authorization: Bearer`, or a 401 problem."""
    token = bearer_token(request)
    if token is None:
        raise ProblemError.unauthorized(
            "A bearer access token is required.", error="invalid_request"
        )
    try:
        return state.identify(token)
    except TokenRejectedError as exc:
        raise ProblemError.unauthorized(str(exc)) from None


def authenticate(state: SandboxState, request: Request) -> Customer:
    """The customer behind `Authorization: Bearer <access token>`: a 401 problem without a
    valid token, 403 for a service-account token (customer-only endpoint)."""
    principal = identify(state, request)
    if isinstance(principal, ServiceAccount):
        raise ProblemError.access_denied(
            "This endpoint serves customers only; a service-account token cannot call it."
        )
    return principal


def authenticate_any(
    state: SandboxState, request: Request, operation: Operation
) -> Customer | ServiceAccount:
    """A customer or a service account (agency scope); service calls are counted in
    `state.service_calls[operation]`."""
    principal = identify(state, request)
    if isinstance(principal, ServiceAccount):
        state.service_calls[operation.value] += 1
    return principal


def _tokens_json(pair: TokenPair) -> dict[str, object]:
    return {
        "accessToken": pair.access_token,
        "refreshToken": pair.refresh_token,
        "expiresIn": pair.expires_in,
    }


def build_auth_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post("/auth/customer/login-or-register")
    async def login_or_register(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.LOGIN)
        body = parse_login_body(state, await read_json_object(request))
        number = body.tax_number if isinstance(body, CompanyLoginBody) else body.identity_number
        customer = state.find_customer(body.kind, number)
        if customer is None:
            birth_date = body.birth_date if isinstance(body, PersonLoginBody) else None
            if body.kind is not CustomerKind.COMPANY and birth_date is None:
                raise ProblemError.input_validation(
                    [
                        ValidationIssue(
                            "birthDate", "'birthDate' is required to register a new customer.", None
                        )
                    ]
                )
            customer = state.register_customer(
                kind=body.kind,
                number=number,
                phone=PhoneNumber(body.phone_number.country_code, body.phone_number.number),
                agent_id=body.agent_id,
                birth_date=birth_date,
                agent_branch_id=body.agent_branch_id,
                consents=list(body.approved_consent_types or []),
            )
        state.record_consents(customer.id, body.approved_consent_types or [])
        state.logins[customer.id] += 1
        if state.config.direct_tokens:
            return JSONResponse(_tokens_json(state.issue_tokens(customer.id)))
        grant = state.issue_mfa_token(customer.id)
        return JSONResponse({"token": grant.key, "customerId": customer.id})

    @router.post("/auth/customer/verify-mfa")
    async def verify_mfa(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.VERIFY_MFA)
        body = parse_body(VerifyMfaBody, await read_json_object(request))
        if not (body.code.isascii() and body.code.isdigit() and len(body.code) == 6):
            raise ProblemError.input_validation(
                [ValidationIssue("code", "'code' must be 6 digits.", body.code)]
            )
        if state.peek_mfa_token(body.token) is None:
            raise ProblemError.unauthorized(
                "The MFA token is invalid, expired or already used; log in again."
            )
        if body.code != state.config.mfa_code:
            raise ProblemError.business_validation(
                ["MFA_CODE_INVALID"], "The verification code is incorrect."
            )
        grant = state.consume_mfa_token(body.token)
        if grant is None:  # lost a race with a concurrent verification
            raise ProblemError.unauthorized("The MFA token has already been used.")
        pair = state.issue_tokens(grant.customer_id)
        return JSONResponse(
            {
                "accessToken": pair.access_token,
                "refreshToken": pair.refresh_token,
                "customerId": pair.customer_id,
            }
        )

    @router.post("/auth/customer/refresh")
    async def refresh(request: Request) -> JSONResponse:
        # By default any Authorization header (even an expired token) is ignored, as section
        # 1.3 asks; `refresh_requires_access_token` makes the paired access token mandatory.
        await inject_faults(state, Operation.REFRESH)
        body = parse_body(RefreshBody, await read_json_object(request))
        try:
            pair = state.rotate_refresh_token(body.refresh_token, bearer_token(request))
        except RefreshRejectedError as exc:
            raise ProblemError.unauthorized(str(exc)) from None
        return JSONResponse(_tokens_json(pair))

    return router
