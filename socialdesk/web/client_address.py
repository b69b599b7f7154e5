"""The client's address as the sign-in throttle and the web form's rate limit count it.

``X-Forwarded-For`` is believed only when the peer is a configured trusted proxy
(``SOCIALDESK_TRUSTED_PROXIES``); then the client is the rightmost hop that is not
itself a trusted proxy, since everything left of that could have been typed by the
client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from starlette.requests import HTTPConnection

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def parse_networks(value: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; raises ValueError naming a bad entry."""
    networks = []
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError as exc:
            raise ValueError(
                f"SOCIALDESK_TRUSTED_PROXIES: {part!r} is not an address or CIDR"
            ) from exc
    return tuple(networks)


def _trusted(address: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def resolve_client(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> str:
    """The client address given the TCP peer and the X-Forwarded-For header values."""
    if not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    # Every hop is a trusted proxy (or there is no header): the leftmost one is the client.
    return hops[0] if hops else peer


def client_address(request: HTTPConnection) -> str:
    peer = request.client.host if request.client else "unknown"
    networks = parse_networks(request.app.state.settings.trusted_proxies)
    if not networks:
        return peer
    return resolve_client(peer, request.headers.getlist("x-forwarded-for"), networks)
