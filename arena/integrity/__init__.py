"""Integrity checks: identity leaks, moderation, rate limits, client addresses and anomalous voters.

Each check returns a verdict dataclass with a machine-readable reason code and a human message.
"""

from arena.integrity.anomaly import (
    AnomalyConfig,
    AnomalyDetector,
    AnomalyReason,
    AnomalyVerdict,
    VoteRecord,
    conformal_p_values,
    count_pairs,
    fisher_checkpoints,
    pair_key,
    sequential_anomaly_test,
)
from arena.integrity.identity import (
    IdentityLeakConfig,
    IdentityLeakDetector,
    LeakMatch,
    LeakReason,
    LeakVerdict,
)
from arena.integrity.moderation import (
    CombinedModerationPolicy,
    FailMode,
    ListModerationPolicy,
    ModerationPolicy,
    ModerationReason,
    ModerationUnavailableError,
    ModerationVerdict,
    OpenAIModerationPolicy,
)
from arena.integrity.proxies import AddressSource, ClientAddress, TrustedProxies, resolve_client_address
from arena.integrity.ratelimit import RateLimit, RateLimiterSet, RateReason, RateVerdict, TokenBucketLimiter

__all__ = [
    "AddressSource",
    "AnomalyConfig",
    "AnomalyDetector",
    "AnomalyReason",
    "AnomalyVerdict",
    "ClientAddress",
    "CombinedModerationPolicy",
    "FailMode",
    "IdentityLeakConfig",
    "IdentityLeakDetector",
    "LeakMatch",
    "LeakReason",
    "LeakVerdict",
    "ListModerationPolicy",
    "ModerationPolicy",
    "ModerationReason",
    "ModerationUnavailableError",
    "ModerationVerdict",
    "OpenAIModerationPolicy",
    "RateLimit",
    "RateLimiterSet",
    "RateReason",
    "RateVerdict",
    "TokenBucketLimiter",
    "TrustedProxies",
    "VoteRecord",
    "conformal_p_values",
    "count_pairs",
    "fisher_checkpoints",
    "pair_key",
    "resolve_client_address",
    "sequential_anomaly_test",
]
