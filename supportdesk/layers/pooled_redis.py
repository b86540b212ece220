"""channels-redis with a pool that waits instead of refusing (see the package's docstring)."""

from __future__ import annotations

from channels_redis.core import RedisChannelLayer
from redis import asyncio as aioredis


class PooledRedisChannelLayer(RedisChannelLayer):
    """channels-redis with a bounded pool that waits for a free connection when busy."""

    def __init__(self, *args, pool_size: int = 100, pool_timeout: float = 20.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout

    def create_pool(self, index: int) -> aioredis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        if "address" not in host:  # sentinels or keyword hosts: channels-redis's own pool
            return super().create_pool(index)
        return aioredis.BlockingConnectionPool.from_url(
            host.pop("address"),
            max_connections=self.pool_size,
            timeout=self.pool_timeout,
            **host,
        )
