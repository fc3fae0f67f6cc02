"""Token-bucket rate limits per key (voter id, client address), with an injectable clock and bounded memory.

A bucket holds up to `burst` tokens and refills at `rate_per_s`; a request costs one token (or `cost`).
Buckets live in an LRU map of at most `max_keys` entries. A bucket idle for `burst / rate_per_s` seconds is
full again, exactly like a new one, so evicting it loses nothing; when the map is full of busy buckets the
least recently used is evicted anyway (that key starts afresh: a bounded-memory trade-off, logged). The
limiter is an object the app creates; all state is inside it, guarded by a lock (thread-safe).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from arena.errors import ConfigError

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class RateReason(StrEnum):
    """Machine-readable reason code of a refusal."""

    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class RateLimit:
    """Refill rate (tokens per second) and bucket size (the largest burst allowed after a quiet period)."""

    rate_per_s: float
    burst: float

    def __post_init__(self) -> None:
        if not (self.rate_per_s > 0 and math.isfinite(self.rate_per_s)):
            raise ConfigError(f"rate limit: rate must be a positive number, got {self.rate_per_s!r}")
        if not (self.burst >= 1 and math.isfinite(self.burst)):
            raise ConfigError(f"rate limit: burst must be at least 1, got {self.burst!r}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> RateLimit:
        """Config keys: exactly one of `per_second`, `per_minute`, `per_hour`; and `burst`."""
        per = {"per_second": 1.0, "per_minute": 60.0, "per_hour": 3600.0}
        unknown = set(mapping) - {*per, "burst"}
        given = [k for k in per if k in mapping]
        if unknown or len(given) != 1 or "burst" not in mapping:
            raise ConfigError(
                f"rate limit {dict(mapping)!r}: give `burst` and exactly one of per_second, per_minute, per_hour"
            )
        return cls(rate_per_s=float(mapping[given[0]]) / per[given[0]], burst=float(mapping["burst"]))


@dataclass(frozen=True)
class RateVerdict:
    """Allowed, or refused with the seconds until enough tokens are back."""

    allowed: bool
    retry_after: float
    remaining: float
    scope: str
    reason: RateReason | None
    message: str


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBucketLimiter:
    """Token buckets for one scope (e.g. "voter" or "address"), keyed by any string."""

    def __init__(
        self, limit: RateLimit, *, scope: str = "key", clock: Clock = time.monotonic, max_keys: int = 100_000
    ) -> None:
        if max_keys < 1:
            raise ConfigError(f"rate limit {scope!r}: max_keys must be at least 1")
        self.limit = limit
        self.scope = scope
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        with self.lock:
            return len(self._buckets)

    def try_acquire(self, key: str, cost: float = 1.0) -> RateVerdict:
        """Take `cost` tokens from `key`'s bucket if it has them; never blocks, never sleeps."""
        with self.lock:
            verdict = self.peek_locked(key, cost)
            if verdict.allowed:
                self.take_locked(key, cost)
                return self._verdict(True, 0.0, verdict.remaining - cost)
            return verdict

    def sweep(self) -> int:
        """Drop every bucket that is full again (lossless); returns how many were dropped."""
        with self.lock:
            now = self._clock()
            full = [k for k, b in self._buckets.items() if self._level(b, now) >= self.limit.burst]
            for key in full:
                del self._buckets[key]
            return len(full)

    def peek_locked(self, key: str, cost: float) -> RateVerdict:
        """Would `cost` tokens be granted now? Caller holds `lock`. Refreshes the bucket, takes nothing."""
        if not 0 < cost <= self.limit.burst:
            raise ValueError(f"cost must be in (0, burst={self.limit.burst}], got {cost}")
        now = self._clock()
        bucket = self._get(key, now)
        bucket.tokens, bucket.updated = self._level(bucket, now), max(now, bucket.updated)
        if bucket.tokens >= cost:
            return self._verdict(True, 0.0, bucket.tokens)
        return self._verdict(False, (cost - bucket.tokens) / self.limit.rate_per_s, bucket.tokens)

    def take_locked(self, key: str, cost: float) -> None:
        """Remove `cost` tokens from a bucket just refreshed by `peek_locked`. Caller holds `lock`."""
        self._buckets[key].tokens -= cost

    def _level(self, bucket: _Bucket, now: float) -> float:
        elapsed = max(0.0, now - bucket.updated)
        return min(self.limit.burst, bucket.tokens + elapsed * self.limit.rate_per_s)

    def _get(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        self._evict(now)
        bucket = self._buckets[key] = _Bucket(self.limit.burst, now)
        return bucket

    def _evict(self, now: float) -> None:
        """Make room for one new key. LRU order is last-update order, so full buckets sit at the front."""
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if self._level(oldest, now) < self.limit.burst:
                break
            self._buckets.popitem(last=False)
        if len(self._buckets) >= self.max_keys:
            self._buckets.popitem(last=False)
            logger.info("rate limit %r: %d busy keys, evicted the least recently used", self.scope, self.max_keys)

    def _verdict(self, allowed: bool, retry_after: float, remaining: float) -> RateVerdict:
        if allowed:
            return RateVerdict(True, 0.0, remaining, self.scope, None, "allowed")
        message = f"Too many requests for this {self.scope}: try again in {math.ceil(retry_after)} s."
        return RateVerdict(False, retry_after, remaining, self.scope, RateReason.RATE_LIMITED, message)


class RateLimiterSet:
    """Several scopes checked together, all or nothing: a refused request takes no token from any scope."""

    def __init__(self, limiters: Mapping[str, TokenBucketLimiter]) -> None:
        self.limiters = dict(limiters)

    def try_acquire(self, keys: Mapping[str, str], cost: float = 1.0) -> RateVerdict:
        """`keys` maps scope name -> key (e.g. {"voter": id, "address": ip}); unknown scopes raise KeyError.

        Returns the refusal with the longest wait when any scope refuses, else an allowed verdict whose
        `remaining` is the smallest over the scopes.
        """
        scopes = sorted(keys)
        limiters = [self.limiters[s] for s in scopes]
        with ExitStack() as stack:
            for limiter in sorted(set(limiters), key=id):  # one global lock order: no deadlock between sets
                stack.enter_context(limiter.lock)
            verdicts = [lim.peek_locked(keys[s], cost) for s, lim in zip(scopes, limiters, strict=True)]
            refused = [v for v in verdicts if not v.allowed]
            if refused:
                return max(refused, key=lambda v: v.retry_after)
            for scope, limiter in zip(scopes, limiters, strict=True):
                limiter.take_locked(keys[scope], cost)
        remaining = min((v.remaining - cost for v in verdicts), default=math.inf)
        return RateVerdict(True, 0.0, remaining, ",".join(scopes), None, "allowed")
