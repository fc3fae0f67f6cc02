"""Client address resolution: forwarded headers count only from trusted proxies, walked right to left."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.datastructures import Headers

from arena.errors import ConfigError
from arena.integrity.proxies import AddressSource, TrustedProxies, parse_address, resolve_client_address

PROXIES = TrustedProxies(["10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48"])


def test_forged_header_from_untrusted_peer_is_ignored() -> None:
    result = PROXIES.resolve("203.0.113.9", {"X-Forwarded-For": "198.51.100.1"})
    assert (result.address, result.source) == ("203.0.113.9", AddressSource.UNTRUSTED_PEER)
    assert PROXIES.resolve("203.0.113.9", {}).source is AddressSource.PEER


def test_chain_is_walked_right_to_left_past_trusted_proxies() -> None:
    headers = {"x-forwarded-for": "1.2.3.4, 198.51.100.23, 10.0.0.2, 10.1.1.1"}
    result = PROXIES.resolve("10.0.0.1", headers)
    assert (result.address, result.source) == ("198.51.100.23", AddressSource.FORWARDED_CHAIN)


def test_client_spoofing_the_left_of_the_chain_gains_nothing() -> None:
    # the client sent "X-Forwarded-For: 10.9.9.9" (a trusted-looking address); the proxy appended the real one
    result = PROXIES.resolve("127.0.0.1", {"x-forwarded-for": "10.9.9.9, 203.0.113.50"})
    assert result.address == "203.0.113.50"


def test_all_trusted_and_no_header() -> None:
    result = PROXIES.resolve("10.0.0.1", {"x-forwarded-for": "10.0.0.7, 10.0.0.3"})
    assert (result.address, result.source) == ("10.0.0.7", AddressSource.ALL_HOPS_TRUSTED)
    result = PROXIES.resolve("10.0.0.1", {"accept": "*/*"})
    assert (result.address, result.source) == ("10.0.0.1", AddressSource.PEER)


def test_invalid_entry_stops_at_the_last_trusted_hop() -> None:
    result = PROXIES.resolve("10.0.0.1", {"x-forwarded-for": "198.51.100.1, unknown, 10.0.0.5"})
    assert (result.address, result.source) == ("10.0.0.5", AddressSource.INVALID_HOP)
    result = PROXIES.resolve("10.0.0.1", {"x-forwarded-for": "garbage"})
    assert (result.address, result.source) == ("10.0.0.1", AddressSource.INVALID_HOP)


def test_multiple_header_lines_are_joined_in_order() -> None:
    raw = [(b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-for", b"198.51.100.2, 10.0.0.9")]
    assert PROXIES.resolve("10.0.0.1", raw).address == "198.51.100.2"
    assert PROXIES.resolve("10.0.0.1", Headers(raw=raw)).address == "198.51.100.2"
    pairs = [("X-Forwarded-For", "198.51.100.3"), ("Other", "x")]
    assert PROXIES.resolve("10.0.0.1", pairs).address == "198.51.100.3"


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("198.51.100.7:4711", "198.51.100.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ('"[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ("::ffff:198.51.100.9", "198.51.100.9"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        ("[2001:db8::1", None),
    ],
)
def test_parse_address(token: str, expected: str | None) -> None:
    parsed = parse_address(token)
    assert (str(parsed) if parsed is not None else None) == expected


def test_forwarded_header_rfc7239() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"], header="Forwarded")
    value = 'for=198.51.100.17;proto=https, For="[2001:db8:cafe::17]:4711";by=10.0.0.1, for=10.0.0.2'
    result = proxies.resolve("10.0.0.1", {"forwarded": value})
    assert (result.address, result.source) == ("2001:db8:cafe::17", AddressSource.FORWARDED_CHAIN)
    hidden = proxies.resolve("10.0.0.1", {"forwarded": "for=_abc123, for=10.0.0.3"})
    assert (hidden.address, hidden.source) == ("10.0.0.3", AddressSource.INVALID_HOP)
    # an X-Forwarded-For header is not consulted when the proxy is configured to set Forwarded
    assert proxies.resolve("10.0.0.1", {"x-forwarded-for": "198.51.100.1"}).address == "10.0.0.1"


def test_ipv6_and_mapped_peers() -> None:
    assert PROXIES.resolve("2001:db8:ffff::1", {"x-forwarded-for": "2001:db8::99"}).address == "2001:db8::99"
    assert PROXIES.resolve("::ffff:10.0.0.1", {"x-forwarded-for": "198.51.100.4"}).address == "198.51.100.4"


def test_unknown_peer_and_hop_limit() -> None:
    assert resolve_client_address(None, {}, PROXIES).source is AddressSource.UNKNOWN_PEER
    assert PROXIES.resolve("testclient", {"x-forwarded-for": "1.2.3.4"}).address == "testclient"
    short = TrustedProxies(["10.0.0.0/8"], max_hops=2)
    result = short.resolve("10.0.0.1", {"x-forwarded-for": "198.51.100.1, 10.0.0.4, 10.0.0.3, 10.0.0.2"})
    assert (result.address, result.source) == ("10.0.0.3", AddressSource.ALL_HOPS_TRUSTED)


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="CIDR"):
        TrustedProxies(["10.0.0.0/33"])
    with pytest.raises(ConfigError, match="header"):
        TrustedProxies([], header="x-real-ip")
    assert not TrustedProxies([]).is_trusted(parse_address("127.0.0.1"))
    configured = TrustedProxies.from_mapping({"trusted_proxies": ["10.0.0.0/8"], "header": "forwarded"})
    assert configured.header == "forwarded" and configured.is_trusted(parse_address("10.2.3.4"))
    with pytest.raises(ConfigError, match="unknown key"):
        TrustedProxies.from_mapping({"trusted": ["10.0.0.0/8"]})
    with pytest.raises(ConfigError, match="must be a list"):
        TrustedProxies.from_mapping({"trusted_proxies": "10.0.0.0/8"})


def test_behind_real_uvicorn_with_forwarded_allow_ips_empty(serve: Callable[..., Any]) -> None:
    """uvicorn itself must not rewrite the peer; our resolver decides, from the raw peer and headers."""
    app = FastAPI()

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        peer = request.client.host if request.client else None
        open_door = resolve_client_address(peer, request.headers, TrustedProxies([]))
        behind_proxy = resolve_client_address(peer, request.headers, TrustedProxies(["127.0.0.1/32"]))
        return {"peer": str(peer), "direct": open_door.address, "proxied": behind_proxy.address}

    server = serve(app, forwarded_allow_ips="", proxy_headers=True)
    answer = httpx.get(server.url + "/whoami", headers={"X-Forwarded-For": "198.51.100.66"}).json()
    assert answer == {"peer": "127.0.0.1", "direct": "127.0.0.1", "proxied": "198.51.100.66"}
