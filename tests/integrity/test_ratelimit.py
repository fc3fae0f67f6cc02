"""Token buckets: refill arithmetic on a fake clock, bounded memory, thread safety, all-or-nothing sets."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from arena.errors import ConfigError
from arena.integrity.ratelimit import RateLimit, RateLimiterSet, RateReason, TokenBucketLimiter


def test_burst_then_refusal_with_exact_retry_after(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=0.5, burst=3), scope="voter", clock=clock)
    assert [limiter.try_acquire("v1").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.try_acquire("v1")
    assert not refused.allowed and refused.reason is RateReason.RATE_LIMITED and refused.scope == "voter"
    assert refused.retry_after == pytest.approx(2.0)
    assert "try again in 2 s" in refused.message
    clock.advance(1.0)
    assert limiter.try_acquire("v1").retry_after == pytest.approx(1.0)  # refusals take nothing
    clock.advance(1.0)
    assert limiter.try_acquire("v1").allowed
    assert limiter.try_acquire("v2").allowed  # keys are independent


def test_refill_is_capped_at_burst(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=10, burst=2), clock=clock)
    limiter.try_acquire("k")
    clock.advance(3600)
    assert [limiter.try_acquire("k").allowed for _ in range(3)] == [True, True, False]


def test_cost_and_remaining(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=1, burst=5), clock=clock)
    verdict = limiter.try_acquire("k", cost=3)
    assert verdict.allowed and verdict.remaining == pytest.approx(2)
    assert limiter.try_acquire("k", cost=3).retry_after == pytest.approx(1.0)
    with pytest.raises(ValueError, match="cost"):
        limiter.try_acquire("k", cost=6)


def test_clock_going_backwards_grants_nothing_extra(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=1, burst=1), clock=clock)
    assert limiter.try_acquire("k").allowed
    clock.advance(-100)
    assert not limiter.try_acquire("k").allowed
    clock.advance(100.5)
    assert not limiter.try_acquire("k").allowed
    clock.advance(0.5)
    assert limiter.try_acquire("k").allowed


def test_idle_buckets_are_evicted_losslessly(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=1, burst=2), clock=clock, max_keys=3)
    for key in ("a", "b"):
        limiter.try_acquire(key)
    clock.advance(10)  # a and b are full again
    limiter.try_acquire("c")
    limiter.try_acquire("c")
    limiter.try_acquire("d")
    assert len(limiter) == 2  # a and b (full again) were dropped when new keys arrived; c and d kept
    assert not limiter.try_acquire("c").allowed  # c's state survived the eviction
    assert limiter.sweep() == 0
    clock.advance(10)
    assert limiter.sweep() == 2 and len(limiter) == 0


def test_memory_is_bounded_when_every_bucket_is_busy(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=0.001, burst=1), clock=clock, max_keys=100)
    for i in range(1000):
        assert limiter.try_acquire(f"k{i}").allowed
    assert len(limiter) == 100
    assert not limiter.try_acquire("k999").allowed  # recent keys keep their state
    assert limiter.try_acquire("k0").allowed  # the oldest were evicted (documented trade-off)


def test_thread_safety_on_a_frozen_clock(clock: Any) -> None:
    limiter = TokenBucketLimiter(RateLimit(rate_per_s=1, burst=50), clock=clock)
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        results = [limiter.try_acquire("shared").allowed for _ in range(200)]
        with lock:
            allowed.extend(results)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 1600 and sum(allowed) == 50


def test_set_is_all_or_nothing(clock: Any) -> None:
    voter = TokenBucketLimiter(RateLimit(rate_per_s=1, burst=5), scope="voter", clock=clock)
    address = TokenBucketLimiter(RateLimit(rate_per_s=0.1, burst=2), scope="address", clock=clock)
    limits = RateLimiterSet({"voter": voter, "address": address})
    assert limits.try_acquire({"voter": "v1", "address": "198.51.100.7"}).allowed
    assert limits.try_acquire({"voter": "v2", "address": "198.51.100.7"}).allowed
    refused = limits.try_acquire({"voter": "v3", "address": "198.51.100.7"})
    assert not refused.allowed and refused.scope == "address"
    assert refused.retry_after == pytest.approx(10.0)
    assert voter.try_acquire("v3").remaining == pytest.approx(4)  # v3 was not charged by the refused request
    with pytest.raises(KeyError):
        limits.try_acquire({"session": "x"})


def test_config_validation() -> None:
    assert RateLimit.from_mapping({"per_minute": 30, "burst": 10}) == RateLimit(0.5, 10)
    assert RateLimit.from_mapping({"per_hour": 7200, "burst": 1}).rate_per_s == pytest.approx(2)
    for bad in ({"per_minute": 30}, {"per_minute": 1, "per_second": 1, "burst": 2}, {"rate": 1, "burst": 2}):
        with pytest.raises(ConfigError):
            RateLimit.from_mapping(bad)
    with pytest.raises(ConfigError, match="positive"):
        RateLimit(0, 5)
    with pytest.raises(ConfigError, match="burst"):
        RateLimit(1, 0.5)
    with pytest.raises(ConfigError, match="max_keys"):
        TokenBucketLimiter(RateLimit(1, 1), max_keys=0)
