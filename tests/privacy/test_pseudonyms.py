"""Keyed per-release pseudonyms: stable under one key, unlinkable across keys, never derived from an IP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arena.privacy.pseudonyms import KEY_BYTES, Pseudonymizer, ReleaseKey, b32_lower, pseudonym

FIXED = ReleaseKey(bytes(range(32)))


def _in_other_process(key_hex: str, voter_id: str) -> str:
    return pseudonym(ReleaseKey.from_hex(key_hex), voter_id)


def test_format_and_known_answer() -> None:
    value = pseudonym(FIXED, "voter-1")
    assert re.fullmatch(r"v_[a-z2-7]{26}", value)
    # Independent computation of the documented construction: HMAC-SHA256, first 16 bytes, base32.
    digest = hmac.new(bytes(range(32)), b"arena/voter-pseudonym/v1\x00voter-1", hashlib.sha256).digest()
    assert value == "v_" + base64.b32encode(digest[:16]).decode().rstrip("=").lower()


def test_same_key_same_pseudonym_across_batches_and_processes() -> None:
    key = ReleaseKey.generate()
    batch_1 = [Pseudonymizer(key)(v) for v in ("alice", "bob", "alice")]
    batch_2 = [Pseudonymizer(ReleaseKey.from_hex(key.to_hex()))(v) for v in ("alice", "bob")]
    with ProcessPoolExecutor(max_workers=2) as pool:
        worker = list(pool.map(_in_other_process, [key.to_hex()] * 2, ["alice", "bob"]))
    assert batch_1[0] == batch_1[2] == batch_2[0] == worker[0]
    assert batch_1[1] == batch_2[1] == worker[1]
    assert batch_1[0] != batch_1[1]


def test_different_keys_are_unlinkable() -> None:
    keys = [ReleaseKey.generate() for _ in range(3)]
    assert len({k.secret for k in keys}) == 3
    voters = [f"voter-{i}" for i in range(200)]
    per_key = [{pseudonym(k, v) for v in voters} for k in keys]
    assert all(len(s) == len(voters) for s in per_key)
    assert not (per_key[0] & per_key[1]) and not (per_key[1] & per_key[2])


def test_ip_addresses_are_refused() -> None:
    for ip in ("198.51.100.23", "2001:db8::1", " 203.0.113.7 ", "[2001:db8::2]"):
        with pytest.raises(ValueError, match="never IP addresses"):
            pseudonym(FIXED, ip)
    with pytest.raises(ValueError):
        pseudonym(FIXED, "")


def test_key_handling() -> None:
    key = ReleaseKey.generate()
    assert len(key.secret) == KEY_BYTES
    assert key.to_hex() not in repr(key)
    assert ReleaseKey.from_hex(key.to_hex()) == key
    assert re.fullmatch(r"[0-9a-f]{16}", key.fingerprint) and key.fingerprint not in key.to_hex()
    with pytest.raises(ValueError, match="at least"):
        ReleaseKey(b"short")


@given(st.binary(max_size=40))
@settings(max_examples=500, deadline=None, derandomize=True)
def test_b32_lower_is_base64_b32encode(data: bytes) -> None:
    assert b32_lower(data) == base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _refused_by_full_parse(voter_id: str) -> bool:
    try:
        ipaddress.ip_address(voter_id.strip().strip("[]"))
    except ValueError:
        return False
    return True


IP_PIECES = st.sampled_from(["1", "25", "255", "256", "0", "db8", "fe80", "ffff", ".", ":", "::", "%eth0", "[", "]",
                             " ", "\t", "x", "voter-", "١"])


@given(st.lists(IP_PIECES, max_size=14).map("".join))
@settings(max_examples=3000, deadline=None, derandomize=True)
def test_ip_precheck_refuses_exactly_what_ip_address_parses(voter_id: str) -> None:
    assume(voter_id)
    refused = True
    try:
        pseudonym(FIXED, voter_id)
        refused = False
    except ValueError:
        pass
    assert refused == _refused_by_full_parse(voter_id)
