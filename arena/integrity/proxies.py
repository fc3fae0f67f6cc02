"""Client address resolution: trust X-Forwarded-For / Forwarded only from a configured proxy peer.

Anyone can send a forwarded header, so it says nothing unless the connection comes from a proxy we run.
With the peer trusted, the chain is walked right to left (the rightmost entry was written by the proxy
nearest to us), skipping entries that are themselves trusted proxies; the first untrusted address is the
client. Run uvicorn with `forwarded_allow_ips=""` (it trusts X-Forwarded-For from 127.0.0.1 by default)
and resolve the address here, from the raw peer and headers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from arena.errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
HEADERS = ("x-forwarded-for", "forwarded")
_UNQUOTED_COMMA = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')


class AddressSource(StrEnum):
    """Where the resolved address came from (a machine-readable reason code)."""

    PEER = "peer"
    UNTRUSTED_PEER = "untrusted_peer"
    FORWARDED_CHAIN = "forwarded_chain"
    ALL_HOPS_TRUSTED = "all_hops_trusted"
    INVALID_HOP = "invalid_hop"
    UNKNOWN_PEER = "unknown_peer"


@dataclass(frozen=True)
class ClientAddress:
    """The client address to rate-limit and pseudonymise, with how it was found."""

    address: str
    source: AddressSource
    message: str


def parse_address(token: str) -> IPAddress | None:
    """An IP from a header entry or peer: handles quotes, ports, [v6]:port and IPv4-mapped IPv6; else None."""
    value = token.strip().strip('"').strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def header_values(headers: Mapping[str, str] | Iterable[tuple[Any, Any]], name: str) -> list[str]:
    """All values of header `name`, in order (Starlette `Headers`, a mapping, or raw name-value pairs)."""
    getlist = getattr(headers, "getlist", None)
    if callable(getlist):
        return [str(v) for v in getlist(name)]
    if isinstance(headers, Mapping):
        return [str(v) for k, v in headers.items() if str(k).lower() == name]
    values = []
    for key, value in headers:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == name:
            values.append(value.decode("latin-1") if isinstance(value, bytes) else str(value))
    return values


def _forwarded_for(element: str) -> str:
    for pair in element.split(";"):
        key, _, value = pair.partition("=")
        if key.strip().lower() == "for":
            return value
    return ""


class TrustedProxies:
    """The proxies allowed to tell us the client's address, and the one header they set.

    `header` must be the header the proxy *appends to* (nginx `$proxy_add_x_forwarded_for`, or RFC 7239
    `Forwarded`): trusting a second header the proxy merely passes through would let a client forge it.
    """

    def __init__(self, cidrs: Sequence[str] = (), *, header: str = "x-forwarded-for", max_hops: int = 20) -> None:
        if header.lower() not in HEADERS:
            raise ConfigError(f"forwarded header must be one of {HEADERS}, got {header!r}")
        if max_hops < 1:
            raise ConfigError("forwarded max_hops must be at least 1")
        networks: list[IPNetwork] = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError(f"trusted proxy {cidr!r} is not an IP address or CIDR (e.g. 10.0.0.0/8)") from exc
        self.networks = tuple(networks)
        self.header = header.lower()
        self.max_hops = max_hops

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> TrustedProxies:
        """Config keys: `trusted_proxies` (list of IPs/CIDRs), `header`, `max_hops`; unknown keys are refused."""
        allowed = {"trusted_proxies", "header", "max_hops"}
        unknown = set(mapping) - allowed
        if unknown:
            raise ConfigError(f"proxy config: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        cidrs = mapping.get("trusted_proxies", ())
        if isinstance(cidrs, str):
            raise ConfigError('proxy config: trusted_proxies must be a list, e.g. ["127.0.0.1", "10.0.0.0/8"]')
        return cls(
            [str(c) for c in cidrs],
            header=str(mapping.get("header", "x-forwarded-for")),
            max_hops=int(mapping.get("max_hops", 20)),
        )

    def is_trusted(self, address: IPAddress | None) -> bool:
        """Whether `address` lies in one of the trusted networks."""
        return address is not None and any(address in network for network in self.networks)

    def chain(self, headers: Mapping[str, str] | Iterable[tuple[Any, Any]]) -> list[str]:
        """The forwarded chain, leftmost (claimed client) first, as raw entries."""
        entries: list[str] = []
        for value in header_values(headers, self.header):
            parts = _UNQUOTED_COMMA.split(value) if self.header == "forwarded" else value.split(",")
            entries.extend(_forwarded_for(p) if self.header == "forwarded" else p for p in parts)
        return [e.strip() for e in entries]

    def resolve(self, peer: str | None, headers: Mapping[str, str] | Iterable[tuple[Any, Any]]) -> ClientAddress:
        """The client address for a request arriving from socket peer `peer` with `headers`."""
        peer_ip = parse_address(peer or "")
        if peer_ip is None:
            return ClientAddress(peer or "", AddressSource.UNKNOWN_PEER, f"peer {peer!r} is not an IP address")
        if not self.is_trusted(peer_ip):
            return ClientAddress(
                str(peer_ip),
                AddressSource.UNTRUSTED_PEER if header_values(headers, self.header) else AddressSource.PEER,
                "direct connection: forwarded headers ignored",
            )
        chain = self.chain(headers)
        if not chain:
            return ClientAddress(str(peer_ip), AddressSource.PEER, "trusted proxy sent no forwarded header")
        nearest = peer_ip
        for entry in reversed(chain[-self.max_hops :]):
            hop = parse_address(entry)
            if hop is None:
                return ClientAddress(
                    str(nearest),
                    AddressSource.INVALID_HOP,
                    f"unparseable forwarded entry {entry[:60]!r}: using the last trusted hop",
                )
            if not self.is_trusted(hop):
                return ClientAddress(str(hop), AddressSource.FORWARDED_CHAIN, "first untrusted hop of the chain")
            nearest = hop
        return ClientAddress(
            str(nearest),
            AddressSource.ALL_HOPS_TRUSTED,
            "every examined hop is a trusted proxy: using the farthest one",
        )


def resolve_client_address(
    peer: str | None, headers: Mapping[str, str] | Iterable[tuple[Any, Any]], trusted: TrustedProxies
) -> ClientAddress:
    """Function form of `TrustedProxies.resolve`."""
    return trusted.resolve(peer, headers)
