"""Rate limits per voter and per client address (token buckets), with forwarded headers trusted only from proxies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arena.errors import ConfigError, RateLimitedError
from arena.integrity.proxies import TrustedProxies
from arena.integrity.ratelimit import RateLimit, RateLimiterSet, TokenBucketLimiter

# Generous defaults for a public arena; tighten them in [arena.rate_limits] of arena.toml.
DEFAULT_LIMITS: Mapping[str, Mapping[str, Mapping[str, float]]] = {
    "battles": {"voter": {"per_minute": 30, "burst": 10}, "address": {"per_minute": 600, "burst": 200}},
    "votes": {"voter": {"per_minute": 60, "burst": 20}, "address": {"per_minute": 6000, "burst": 2000}},
}


class Guard:
    """Admits or refuses actions; one instance per app (the buckets live in it, not in a module)."""

    def __init__(self, limits: Mapping[str, Any] | None = None, trusted_proxies: tuple[str, ...] = ()) -> None:
        merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in DEFAULT_LIMITS.items()}
        for action, scopes in dict(limits or {}).items():
            if action not in merged:
                raise ConfigError(f"rate_limits: unknown action {action!r}; known: {sorted(merged)}")
            if not isinstance(scopes, Mapping) or set(scopes) - {"voter", "address"}:
                raise ConfigError(f"rate_limits.{action}: give tables 'voter' and/or 'address'")
            merged[action].update(scopes)
        self._sets = {
            action: RateLimiterSet({scope: TokenBucketLimiter(RateLimit.from_mapping(limit), scope=scope)
                                    for scope, limit in scopes.items()})
            for action, scopes in merged.items()
        }
        self._proxies = TrustedProxies(list(trusted_proxies))

    def client_address(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The client's address: the socket peer unless it is a configured proxy (then X-Forwarded-For)."""
        return self._proxies.resolve(peer, headers).address or (peer or "unknown")

    def admit(self, action: str, voter: str, address: str) -> None:
        """Take one token for `action` from the voter's and the address's buckets, or raise RateLimitedError."""
        verdict = self._sets[action].try_acquire({"voter": voter or "anonymous", "address": address})
        if not verdict.allowed:
            raise RateLimitedError(
                f"too many {action} from this {verdict.scope}; wait {verdict.retry_after:.0f} s and try again",
                retry_after=verdict.retry_after,
            )
