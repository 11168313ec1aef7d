"""Small steps shared by tests: signing in through the public API."""

import httpx

LOGIN_BODY = {
    "customerType": "individual",
    "identityNumber": "11111111110",
    "birthDate": "1990-01-01",
    "phoneNumber": "+90 532 123 45 67",
    "consents": ["KVKK"],
}
CSRF = {"X-CSRF": "1"}


async def sign_in_cookie(api: httpx.AsyncClient, code: str = "123456") -> httpx.Response:
    started = await api.post("/api/v1/session", json=LOGIN_BODY, headers=CSRF)
    assert started.status_code == 202, started.text
    verified = await api.post("/api/v1/session/mfa", json={"code": code}, headers=CSRF)
    assert verified.status_code == 200, verified.text
    return verified


async def sign_in_bearer(api: httpx.AsyncClient) -> str:
    """The signed-in session's token: the SMS-code answer's (the sign-in one dies there)."""
    started = await api.post(
        "/api/v1/session", json=LOGIN_BODY, headers={"X-Session-Transport": "bearer"}
    )
    assert started.status_code == 202, started.text
    pending = str(started.json()["sessionToken"])
    verified = await api.post(
        "/api/v1/session/mfa",
        json={"code": "123456"},
        headers={"Authorization": f"Bearer {pending}"},
    )
    assert verified.status_code == 200, verified.text
    token = str(verified.json()["sessionToken"])
    assert token != pending
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
