"""On a Redis Cluster the start-up check asks every master, and names the one that would
evict keys. Needs a cluster (make test-cluster); the setting changed here is restored."""

import pytest
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

from app.store.connection import check_redis_settings, open_redis, parse_store_url
from tests.conftest import REDIS_URL, LogLines

TARGET = parse_store_url(REDIS_URL)
pytestmark = pytest.mark.skipif(
    TARGET.kind != "cluster", reason="needs a Redis Cluster (make test-cluster)"
)


async def test_every_master_is_checked_and_an_evicting_one_is_named(log_lines: LogLines) -> None:
    client = open_redis(REDIS_URL, timeout=2)
    try:
        await check_redis_settings(client, seconds=10)
        checked = [line for line in log_lines.lines if "redis settings checked" in line]
        assert checked and '"redis_nodes":3' in checked[0].replace(" ", "")
        assert not [line for line in log_lines.lines if "REDIS EVICTS KEYS" in line]

        cluster: object = client
        assert isinstance(cluster, RedisCluster)
        primary = cluster.get_primaries()[0]
        host, port = primary.host, int(primary.port)
        node = aioredis.Redis(host=host, port=port, socket_timeout=2)
        previous = str((await node.config_get("maxmemory-policy"))["maxmemory-policy"])
        await node.config_set("maxmemory-policy", "volatile-lru")
        try:
            await check_redis_settings(client, seconds=10)
        finally:
            await node.config_set("maxmemory-policy", previous)
            await node.aclose()
        warned = [line for line in log_lines.lines if "REDIS EVICTS KEYS" in line]
        assert len(warned) == 1
        assert f"{host}:{port}" in warned[0] and "volatile-lru" in warned[0]
    finally:
        await client.aclose()
