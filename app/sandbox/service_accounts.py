"""Service accounts (reference 9.3): `POST /connect/token`, OAuth 2.0 client credentials.

Served at the sandbox root (InsurUp serves it on `auth.insurup.com`). Body
`application/x-www-form-urlencoded`: `grant_type=client_credentials`, `client_id`,
`client_secret` (or HTTP Basic client authentication), `scope=core-api` (optional). Answer
`{access_token, token_type: "Bearer", expires_in, scope: "core-api"}`, no refresh token.
Errors are RFC 6749 bodies `{"error", "error_description"}`: 400 `invalid_request`,
400 `unsupported_grant_type`, 401 `invalid_client`, 400 `invalid_scope`.

A service token is agency-scoped: the endpoints that accept it (`GET proposals/{id}`,
`GET policies/{id}`) show any customer's data; customer-only endpoints answer 403.
"""

import base64
import binascii
import hmac
from urllib.parse import parse_qs, unquote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .config import Operation
from .faults import inject_faults
from .state import SERVICE_SCOPE, SandboxState

GRANT_TYPE = "client_credentials"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(Exception):
    def __init__(
        self, error: str, description: str, status: int = 400, basic_auth: bool = False
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.basic_auth = basic_auth

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.status == 401 and self.basic_auth:
            headers["WWW-Authenticate"] = 'Basic realm="insurup-sandbox"'
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers=headers,
        )


def _form(raw: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The body is not UTF-8.") from None
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise OAuthError("invalid_request", f"Parameters given more than once: {repeated}.")
    return {name: values[0] for name, values in fields.items()}


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_request", "Only Basic client authentication is supported.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401, True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401, True)
    return unquote(client_id), unquote(secret)


def _client(state: SandboxState, request: Request, form: dict[str, str]) -> str:
    basic = _basic_credentials(request)
    if basic is not None and ("client_id" in form or "client_secret" in form):
        raise OAuthError("invalid_request", "Use one client authentication method, not two.")
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    expected = state.config.service_clients.get(client_id)
    if (
        not client_id
        or expected is None
        or not hmac.compare_digest(expected.encode(), secret.encode())
    ):
        raise OAuthError(
            "invalid_client",
            "The client is unknown or its secret is wrong.",
            401,
            basic is not None,
        )
    return client_id


def build_service_accounts_router(state: SandboxState) -> APIRouter:
    router = APIRouter(tags=["sandbox"], include_in_schema=False)

    @router.post("/connect/token")
    async def token(request: Request) -> JSONResponse:
        await inject_faults(state, Operation.SERVICE_TOKEN)
        try:
            media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/x-www-form-urlencoded":
                raise OAuthError(
                    "invalid_request", "The body must be application/x-www-form-urlencoded."
                )
            form = _form(await request.body())
            grant_type = form.get("grant_type", "")
            if not grant_type:
                raise OAuthError("invalid_request", "The grant_type parameter is missing.")
            if grant_type != GRANT_TYPE:
                raise OAuthError("unsupported_grant_type", f"Only {GRANT_TYPE} is supported here.")
            client_id = _client(state, request, form)
            scopes = set(form.get("scope", SERVICE_SCOPE).split())
            if scopes != {SERVICE_SCOPE}:
                raise OAuthError("invalid_scope", f"The only scope is {SERVICE_SCOPE}.")
        except OAuthError as error:
            return error.response()
        return JSONResponse(
            {
                "access_token": state.issue_service_token(client_id),
                "token_type": "Bearer",
                "expires_in": state.config.service_token_seconds,
                "scope": SERVICE_SCOPE,
            },
            headers=_NO_STORE,
        )

    return router
