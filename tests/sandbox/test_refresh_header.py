"""`refresh_requires_access_token`: refresh with or without the paired bearer token."""

from .conftest import ME, REFRESH, Sandbox, SandboxFactory, assert_problem, bearer


async def test_by_default_any_authorization_header_is_ignored(sandbox: Sandbox) -> None:
    first = await sandbox.tokens()
    second = await sandbox.tokens()

    forged = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": first["refreshToken"]},
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    foreign = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": second["refreshToken"]},
        headers=bearer(first["accessToken"]),  # another pair's token
    )

    assert forged.status_code == 200, forged.text
    assert foreign.status_code == 200, foreign.text


async def test_required_header_missing_is_401_and_keeps_the_refresh_token(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(refresh_requires_access_token=True)
    tokens = await sandbox.tokens()

    without = await sandbox.client.post(REFRESH, json={"refreshToken": tokens["refreshToken"]})
    basic = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": tokens["refreshToken"]},
        headers={"Authorization": "Basic c2E6c2VjcmV0"},
    )
    with_it = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": tokens["refreshToken"]},
        headers=bearer(tokens["accessToken"]),
    )

    problem = assert_problem(without, 401, "unauthorized")
    assert "bearer access token" in problem["detail"]
    assert without.headers["www-authenticate"].startswith("Bearer")
    assert_problem(basic, 401, "unauthorized")
    assert with_it.status_code == 200, with_it.text  # the refusals did not burn it


async def test_required_header_accepts_the_paired_token_even_when_expired(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(refresh_requires_access_token=True)
    tokens = await sandbox.tokens()
    sandbox.clock.advance(3600)  # the access token expired long ago

    rotated = await sandbox.client.post(
        REFRESH,
        json={"refreshToken": tokens["refreshToken"]},
        headers=bearer(tokens["accessToken"]),
    )

    assert rotated.status_code == 200, rotated.text
    pair = rotated.json()
    assert (await sandbox.client.get(ME, headers=bearer(pair["accessToken"]))).status_code == 200
    # The next refresh needs the new pair's access token, not the old one.
    stale = await sandbox.client.post(
        REFRESH, json={"refreshToken": pair["refreshToken"]}, headers=bearer(tokens["accessToken"])
    )
    fresh = await sandbox.client.post(
        REFRESH, json={"refreshToken": pair["refreshToken"]}, headers=bearer(pair["accessToken"])
    )
    assert_problem(stale, 401, "unauthorized")
    assert fresh.status_code == 200, fresh.text


async def test_required_header_refuses_another_pair_or_a_forged_token(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(refresh_requires_access_token=True)
    first = await sandbox.tokens()
    second = await sandbox.tokens()  # same customer, another login
    header, payload, signature = first["accessToken"].split(".")
    forged = f"{header}.{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"

    other_pair = await sandbox.client.post(
        REFRESH, json={"refreshToken": first["refreshToken"]}, headers=bearer(second["accessToken"])
    )
    bad_signature = await sandbox.client.post(
        REFRESH, json={"refreshToken": first["refreshToken"]}, headers=bearer(forged)
    )

    assert "not issued together" in assert_problem(other_pair, 401, "unauthorized")["detail"]
    assert "signature" in assert_problem(bad_signature, 401, "unauthorized")["detail"]


async def test_required_header_does_not_rescue_a_used_refresh_token(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = await make_sandbox(refresh_requires_access_token=True)
    tokens = await sandbox.tokens()
    headers = bearer(tokens["accessToken"])
    body = {"refreshToken": tokens["refreshToken"]}

    first = await sandbox.client.post(REFRESH, json=body, headers=headers)
    replay = await sandbox.client.post(REFRESH, json=body, headers=headers)

    assert first.status_code == 200
    assert_problem(replay, 401, "unauthorized")
