"""BFF_REDIS_URL's forms (one node, Cluster, Sentinel) and the hash tags that keep every
multi-key command, transaction and script of the gateway in one Redis Cluster slot."""

import inspect

import pytest
from redis.crc import key_slot

from app.store.connection import StoreUrl, parse_store_url
from app.store.keys import Keys


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://", StoreUrl(kind="memory", url="memory://")),
        ("redis://127.0.0.1:6379/0", StoreUrl(kind="single", url="redis://127.0.0.1:6379/0")),
        ("rediss://:pw@redis.internal:6380/0", StoreUrl(kind="single", url="rediss://:pw@redis.internal:6380/0")),
        ("unix:///run/redis.sock?db=0", StoreUrl(kind="single", url="unix:///run/redis.sock?db=0")),
        (
            "redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
            StoreUrl(
                kind="cluster",
                url="redis+cluster://127.0.0.1:7000,127.0.0.1:7001",
                nodes=(("127.0.0.1", 7000), ("127.0.0.1", 7001)),
            ),
        ),
        (
            "rediss+cluster://app:s%40cret@c1.example,[::1]:7002",
            StoreUrl(
                kind="cluster",
                url="rediss+cluster://app:s%40cret@c1.example,[::1]:7002",
                nodes=(("c1.example", 6379), ("::1", 7002)),
                username="app",
                password="s@cret",
                tls=True,
            ),
        ),
        (
            "redis+sentinel://:pw@s1:26379,s2:26380,s3/kasko",
            StoreUrl(
                kind="sentinel",
                url="redis+sentinel://:pw@s1:26379,s2:26380,s3/kasko",
                nodes=(("s1", 26379), ("s2", 26380), ("s3", 26379)),
                service="kasko",
                password="pw",
            ),
        ),
    ],
)  # fmt: skip
def test_every_url_form_is_understood(url: str, expected: StoreUrl) -> None:
    assert parse_store_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:6379",
        "redis+shard://127.0.0.1:7000",
        "redis+cluster://",
        "redis+cluster://127.0.0.1:7000/3",
        "redis+cluster://127.0.0.1:7000?ssl_cert_reqs=none",
        "redis+cluster://127.0.0.1:port",
        "redis+sentinel://127.0.0.1:26379",
        "redis+sentinel://127.0.0.1:26379/a/b",
        "unix+cluster:///run/redis.sock",
    ],
)
def test_a_malformed_url_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(ValueError, match="BFF_REDIS_URL") as refused:
        parse_store_url(url)
    assert "pw" not in str(refused.value)


def test_keys_used_together_share_one_cluster_slot() -> None:
    keys = Keys(prefix="bff:")
    handle, customer = "Zm9vYmFyYmF6", "c-42"
    together = {
        # SessionStore.delete: session and its MFA counter in one DEL; its locks beside it.
        "session": [
            keys.session(handle),
            keys.mfa_attempts(handle),
            keys.refresh_lock(handle),
            keys.mfa_lock(handle),
        ],
        "customer": [keys.customer_sessions(customer), keys.case_lock(customer)],
        # PaymentStore.create: the record and its callback token in one transaction.
        "payment": [keys.payment("p-1"), keys.callback("d" * 64), keys.payment("p-2")],
    }
    for group, names in together.items():
        assert len({key_slot(name.encode()) for name in names}) == 1, group


def test_every_key_carries_one_hash_tag() -> None:
    keys = Keys(prefix="bff:")
    names = []
    for name, method in inspect.getmembers(keys, inspect.ismethod):
        if name.startswith("_"):
            continue
        arity = len(inspect.signature(method).parameters)
        names.append(method(*(f"arg{i}" for i in range(arity))))
    assert names
    for name in names:
        tag = name[name.index("{") + 1 : name.index("}")]
        assert tag, name  # an empty tag `{}` would hash the whole name
    # Different sessions and cache entries spread over the cluster instead of one slot.
    assert key_slot(keys.session("a").encode()) != key_slot(keys.session("b").encode())
    assert key_slot(keys.cache("brands").encode()) != key_slot(keys.cache("models").encode())


@pytest.mark.parametrize("prefix", ["bff{x}:", "bff{:", "}bff:"])
def test_a_prefix_with_braces_is_refused(prefix: str) -> None:
    # A brace in the prefix would become every key's hash tag, or break the keys' own.
    with pytest.raises(ValueError, match="BFF_REDIS_KEY_PREFIX"):
        Keys(prefix=prefix)
