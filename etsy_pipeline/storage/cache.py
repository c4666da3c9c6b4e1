"""Read-through Redis cache for the repositories.

Keys are namespaced per acting user and carry generation numbers: invalidating a shop (after a write or a
sync) increments its generation, so every key built on the old one is unreachable at once and expires by TTL.
That is one atomic INCR instead of a SCAN over keys, and it cannot miss a key written concurrently.
A global generation is bumped whenever Redis comes back after an outage, because writes made meanwhile could
not invalidate anything: values cached before the outage are never served after it.

Redis is optional. Unset or unreachable, every read goes to PostgreSQL and one warning is logged per outage;
after `retry_seconds` the cache tries Redis again and resumes by itself when it answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis

from etsy_pipeline.storage import codec

log = logging.getLogger(__name__)

T = TypeVar("T")

NAMESPACE = "etsy-pipeline:v1"
_MISS = object()


def redact_redis_url(url: str) -> str:
    """The URL with any password replaced, for log lines."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


class Cache:
    """Read-through cache with per-user namespaces and generation-based invalidation."""

    def __init__(
        self,
        url: str | None,
        *,
        retry_seconds: float = 5.0,
        namespace: str = NAMESPACE,
    ) -> None:
        self.namespace = namespace
        self.retry_seconds = retry_seconds
        self._url = url
        self._client: redis.Redis | None = None
        self._retry_at = 0.0
        self._down = False
        self.hits = 0
        self.misses = 0
        if url is None:
            log.warning("REDIS_URL is not set: repository reads are not cached")
        else:
            self._client = redis.Redis.from_url(
                url, socket_connect_timeout=0.25, socket_timeout=0.5, health_check_interval=30
            )

    @property
    def enabled(self) -> bool:
        """True when a Redis URL is configured (whether or not it answers right now)."""
        return self._client is not None

    @property
    def available(self) -> bool:
        """True when Redis is configured and not in a known outage."""
        return self._client is not None and not self._down

    def _call(self, operation: Callable[[redis.Redis], Any]) -> Any:
        client = self._client
        if client is None:
            return _MISS
        now = time.monotonic()
        if self._down and now < self._retry_at:
            return _MISS
        try:
            if self._down:
                # Back from an outage: abandon everything cached before it, then carry on.
                client.incr(self._gen_key("all", 0))
                self._down = False
                log.warning("Redis at %s answers again: caching resumed", redact_redis_url(self._url or ""))
            return operation(client)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._retry_at = now + self.retry_seconds
            if not self._down:
                self._down = True
                log.warning(
                    "Redis at %s is unreachable (%s): reads go to PostgreSQL uncached; retrying every %gs",
                    redact_redis_url(self._url or ""),
                    type(exc).__name__,
                    self.retry_seconds,
                )
            return _MISS

    # -- keys -------------------------------------------------------------------------------------------------

    def _gen_key(self, kind: str, ident: int) -> str:
        return f"{self.namespace}:gen:{kind}:{ident}"

    def _key(self, user_id: int, shop_id: int | None, name: str) -> str | None:
        # A shop's keys carry the shop's generation; the user's own keys (lists of shops) the user's.
        scope = self._gen_key("user", user_id) if shop_id is None else self._gen_key("shop", shop_id)
        gens = self._call(lambda c: c.mget([self._gen_key("all", 0), scope]))
        if gens is _MISS:
            return None
        prefix = f"{self.namespace}:a{int(gens[0] or 0)}:u{user_id}"
        if shop_id is None:
            return f"{prefix}:g{int(gens[1] or 0)}:{name}"
        return f"{prefix}:s{shop_id}:g{int(gens[1] or 0)}:{name}"

    # -- reads and invalidation -------------------------------------------------------------------------------

    def get_or_load(self, *, user_id: int, shop_id: int | None, name: str, ttl: int, loader: Callable[[], T]) -> T:
        """The cached value for this user (and shop), or `loader()` stored for `ttl` seconds."""
        key = self._key(user_id, shop_id, name)
        if key is not None:
            raw = self._call(lambda c: c.get(key))
            if raw is not _MISS and raw is not None:
                try:
                    value: T = codec.loads(raw)
                except (TypeError, KeyError, ValueError):  # written by an older release (a view gained a field)
                    log.info("a cached value no longer decodes; reading it again")
                else:
                    self.hits += 1
                    return value
        self.misses += 1
        value = loader()
        if key is not None:
            data = codec.dumps(value)
            self._call(lambda c: c.set(key, data, ex=ttl))
        return value

    def invalidate_shop(self, shop_id: int, user_id: int | None = None) -> None:
        """Forget everything cached about a shop (and the owner's shop lists)."""
        keys = [self._gen_key("shop", shop_id)]
        if user_id is not None:
            keys.append(self._gen_key("user", user_id))

        def bump(client: redis.Redis) -> None:
            pipe = client.pipeline(transaction=False)
            for key in keys:
                pipe.incr(key)
            pipe.execute()

        self._call(bump)

    def invalidate_user(self, user_id: int) -> None:
        """Forget everything cached for one user."""
        self._call(lambda c: c.incr(self._gen_key("user", user_id)))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
