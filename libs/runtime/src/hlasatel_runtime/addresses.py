"""Who is calling: the client address a trusted reverse proxy saw, as per-IP limits must count it.

A client writes whatever it likes into X-Forwarded-For; each proxy appends the address it was called
from. So the client is the right-most address that is not one of our own proxies — never the left-most
entry — and only when the request came through one of them. An IPv6 client is counted by its /64, the
network one household or one phone is given.
"""

import ipaddress
from collections.abc import Iterable, Mapping

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """Addresses and networks of our own reverse proxies; '*' is refused (any client could name itself)."""

    def __init__(self, entries: Iterable[str]) -> None:
        networks: list[IPNetwork] = []
        for entry in entries:
            if entry.strip() == "*":
                raise ValueError("trusted_proxies '*' would let any client choose its own address: list them")
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"trusted_proxies: '{entry}' is not an address or a network") from None
        self._networks = tuple(networks)

    def __contains__(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def client(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The client's address: the peer's own, or, when the peer is a trusted proxy, the right-most
        address of X-Forwarded-For that is not one of ours."""
        if peer is None:
            return None
        if peer not in self:
            return peer
        forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
        for address in reversed(forwarded):
            if address not in self:
                return address
        return peer


def counted_as(address: str | None) -> str | None:
    """The key a per-IP limit counts: the address itself (IPv4), or its /64 network (IPv6); something that
    is no address at all (a proxy wrote rubbish) is counted as it is."""
    if address is None:
        return None
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
