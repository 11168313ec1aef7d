"""Behind the shipped balancer a customer cannot choose the address the rate limits see.

nginx runs deploy/nginx.conf (the file docker-compose.yml mounts) in front of one replica
started as the Dockerfile starts it (`--proxy-headers`, trusting only the balancer). Each
sign-in forges another `X-Forwarded-For`; with the balancer overwriting the header, all of
them count against the one real address, and the sixth is refused. With the old
`$proxy_add_x_forwarded_for` (appending) every sign-in looked like a new customer.
"""

import ipaddress
import re
from typing import Any

import httpx
import yaml  # type: ignore[import-untyped]

from tests.topology.conftest import (
    NGINX_CONF,
    ROOT,
    Processes,
    Store,
    free_ports,
    gateway_env,
    new_session_key,
    start_balancer,
    start_gateway,
)

PER_IP = 5


def _compose() -> dict[str, Any]:
    """docker-compose.yml with every `${NAME:-default}` at its default."""
    text = (ROOT / "docker-compose.yml").read_text()
    text = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m.group(2), text)
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_compose_runs_this_balancer_and_trusts_only_its_address() -> None:
    compose = _compose()
    balancer = compose["services"]["balancer"]
    mount = f"./{NGINX_CONF.relative_to(ROOT)}:/etc/nginx/conf.d/default.conf:ro"
    assert mount in balancer["volumes"] and "command" not in balancer
    address = ipaddress.ip_address(balancer["networks"]["default"]["ipv4_address"])
    for name in ("gateway-1", "gateway-2"):
        trusted = compose["services"][name]["environment"]["FORWARDED_ALLOW_IPS"]
        assert trusted == str(address), f"{name} trusts {trusted!r}, not only the balancer"
    # The fixed address lies in the network, outside the range Docker hands to the others.
    (ipam,) = compose["networks"]["default"]["ipam"]["config"]
    assert address in ipaddress.ip_network(ipam["subnet"])
    assert address not in ipaddress.ip_network(ipam["ip_range"])


def tckn(first_nine: str) -> str:
    """A valid TCKN from its first nine digits (the first not zero)."""
    digits = [int(c) for c in first_nine]
    assert len(digits) == 9 and digits[0] != 0
    tenth = (sum(digits[0:9:2]) * 7 - sum(digits[1:8:2])) % 10
    eleventh = (sum(digits) + tenth) % 10
    return f"{first_nine}{tenth}{eleventh}"


def test_tckn_matches_the_known_valid_numbers() -> None:
    for known in ("11111111110", "10000000146", "20000000046", "10000000382"):
        assert tckn(known[:9]) == known


async def test_a_forged_x_forwarded_for_does_not_dodge_the_per_address_limit(
    processes: Processes, nginx_binary: str, store: Store
) -> None:
    gateway_port, balancer_port = free_ports(2)
    public = f"http://127.0.0.1:{balancer_port}"
    env = gateway_env(
        public=public,
        store=store,
        session_keys=new_session_key(),
        BFF_LOGIN_RATE_LIMIT_PER_IP=f"{PER_IP}/minute",
        BFF_LOG_LEVEL="WARNING",
    )
    await start_gateway(processes, "gateway", gateway_port, env)
    balancer = await start_balancer(
        processes, nginx_binary, balancer_port, [f"127.0.0.1:{gateway_port}"]
    )

    answers: list[httpx.Response] = []
    async with httpx.AsyncClient(base_url=balancer.url, timeout=20) as web:
        for n in range(1, PER_IP + 2):
            # Another customer every time (the per-identity limit stays out of the way) ...
            login = {
                "customerType": "individual",
                "identityNumber": tckn(f"31415926{n}"),
                "birthDate": "1990-01-01",
                "phoneNumber": f"+90 532 555 00 {n:02d}",
                "consents": ["KVKK"],
            }
            # ... and another made-up address in front of the real one.
            headers = {"X-CSRF": "1", "X-Forwarded-For": f"203.0.113.{n}"}
            web.cookies.clear()
            answers.append(await web.post("/api/v1/session", json=login, headers=headers))

    statuses = [answer.status_code for answer in answers]
    assert statuses[:PER_IP] == [202] * PER_IP, [a.text for a in answers]
    refused = answers[PER_IP]
    assert refused.status_code == 429, f"forged addresses dodged the limit: {statuses}"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
