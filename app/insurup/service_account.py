"""InsurUp's service accounts (client credentials): the token request, on InsurUp's auth host.

`POST {auth}/connect/token`, form body `grant_type=client_credentials, client_id,
client_secret, scope=core-api`; the answer `{access_token, token_type, expires_in}` (30 minutes,
no refresh token: ask again). The secret and the token never reach a log line.
"""

import logging
import time

import httpx
import orjson
from pydantic import Field

from app.errors import UpstreamError, UpstreamRejected
from app.insurup.calls import parse
from app.insurup.errors import error_for_transport
from app.insurup.models import Wire
from app.telemetry.metrics import INSURUP_CALLS, INSURUP_SECONDS

log = logging.getLogger("app.insurup")

SCOPE = "core-api"


class ServiceToken(Wire):
    access_token: str = Field(min_length=1)
    token_type: str = "Bearer"  # noqa: S105 - the token's kind, not a secret
    expires_in: int = Field(default=1800, gt=0)


async def client_credentials_token(
    http: httpx.AsyncClient, *, auth_url: str, client_id: str, client_secret: str
) -> ServiceToken:
    url = auth_url.rstrip("/") + "/connect/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
        "scope": SCOPE,
    }
    started = time.perf_counter()
    try:
        response = await http.post(url, data=form, headers={"Accept": "application/json"})
    except httpx.TransportError as exc:
        INSURUP_CALLS.labels("service_token", type(exc).__name__).inc()
        raise error_for_transport(exc) from exc
    INSURUP_SECONDS.labels("service_token").observe(time.perf_counter() - started)
    INSURUP_CALLS.labels("service_token", str(response.status_code)).inc()
    if response.status_code in (400, 401):
        # `invalid_client`: a configuration error the operator must see (never the secret).
        log.error("InsurUp refused the service account", extra={"status": response.status_code})
        raise UpstreamRejected("The service account was refused", status=403)
    if response.status_code >= 300:
        raise UpstreamError(status=502)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise UpstreamError("The insurance platform sent an unreadable answer") from exc
    return parse(ServiceToken, body)
