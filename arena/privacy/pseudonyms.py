"""Per-release keyed voter pseudonyms: HMAC-SHA256(release key, voter id), stable within a release only.

Every release gets a fresh random key (`ReleaseKey.generate()`, 32 bytes from `secrets`). The release
builder keeps the key privately (to re-run or extend the same release) and never publishes it; what a
release may publish is the key's `fingerprint`, a hash that cannot be turned back into the key.

- Same key, same voter id -> same pseudonym, in any batch, worker or process (no state, no salt store).
- Different keys -> unlinkable pseudonyms: joining two releases on voter pseudonyms is not possible.
- Only account/session voter ids are accepted. An IP address is refused outright, so nothing in a
  release is derived from one (an HMAC of an IPv4 address with a leaked key could be brute-forced over
  the 2^32 address space; with no key, an unkeyed hash of it always can).

Pseudonym format: "v_" + the first 16 bytes (128 bits) of the HMAC, in lowercase unpadded base32:
28 characters in all, e.g. "v_3gq4zq7v2k5m0..." (128 bits make collisions negligible even for
billions of voters).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial

KEY_BYTES = 32
PSEUDONYM_BYTES = 16
PREFIX = "v_"
_DOMAIN = b"arena/voter-pseudonym/v1\x00"
_B32 = "abcdefghijklmnopqrstuvwxyz234567"
_B32_PAIRS = tuple(a + b for a in _B32 for b in _B32)  # every 10-bit value as two base32 characters


def b32_lower(data: bytes) -> str:
    """`base64.b32encode(data).decode().rstrip("=").lower()` from one integer (`base64`'s loop is Python code)."""
    chars = -(-len(data) * 8 // 5)
    value = int.from_bytes(data, "big") << (chars * 5 - len(data) * 8)
    odd = chars % 2
    if odd:  # a zero group makes the count even; its character is dropped again
        value, chars = value << 5, chars + 1
    text = "".join([_B32_PAIRS[(value >> shift) & 1023] for shift in range(chars * 5 - 10, -1, -10)])
    return text[:-1] if odd else text


@dataclass(frozen=True)
class ReleaseKey:
    """A release's secret key; its repr never shows the secret."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < KEY_BYTES:
            raise ValueError(f"a release key needs at least {KEY_BYTES} random bytes; use ReleaseKey.generate()")

    @classmethod
    def generate(cls) -> ReleaseKey:
        """A fresh key from the operating system's CSPRNG; call once per release."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_hex(cls, value: str) -> ReleaseKey:
        """Load a key the release builder stored privately with `to_hex()`."""
        return cls(bytes.fromhex(value))

    def to_hex(self) -> str:
        """The secret as hex, for private storage only (never in a release)."""
        return self.secret.hex()

    @property
    def fingerprint(self) -> str:
        """A public identifier of the key (SHA-256 of it, 16 hex chars); safe to put in a manifest."""
        return hashlib.sha256(b"arena/release-key-fingerprint\x00" + self.secret).hexdigest()[:16]


def _refuse_ip(voter_id: str) -> None:
    candidate = voter_id.strip().strip("[]")
    if ":" not in candidate and candidate.count(".") != 3:
        return  # `ip_address` parses an IPv6 address only with colons, an IPv4 one only with four dotted parts
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return
    raise ValueError("voter ids must be account or session ids, never IP addresses")


def pseudonym(key: ReleaseKey, voter_id: str) -> str:
    """The voter's pseudonym in the release keyed by `key`."""
    if not isinstance(voter_id, str) or not voter_id:
        raise ValueError("voter_id must be a non-empty string")
    _refuse_ip(voter_id)
    digest = hmac.digest(key.secret, _DOMAIN + voter_id.encode("utf-8"), "sha256")
    return PREFIX + b32_lower(digest[:PSEUDONYM_BYTES])


@dataclass(frozen=True)
class Pseudonymizer:
    """Callable form of `pseudonym` bound to one release key (pass it to the filter pipeline)."""

    key: ReleaseKey
    cache_size: int = 65536

    def __post_init__(self) -> None:
        # A voter has many battles in a release; the same id always gives the same pseudonym.
        object.__setattr__(self, "_cached", lru_cache(maxsize=self.cache_size)(partial(pseudonym, self.key)))

    def __reduce__(self) -> tuple[type[Pseudonymizer], tuple[ReleaseKey, int]]:
        return Pseudonymizer, (self.key, self.cache_size)  # the cache is rebuilt, not pickled

    def __call__(self, voter_id: str) -> str:
        cached: Callable[[str], str] = self._cached  # type: ignore[attr-defined]
        return cached(voter_id)
