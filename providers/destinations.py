"""The SSRF guard: which hosts and addresses smsauth may connect to on a gateway's behalf.

``DestinationPolicy`` judges IP addresses with the standard ``ipaddress`` module. Always refused:
link-local addresses (169.254.0.0/16, fe80::/10), the cloud metadata addresses and host names
(``CLOUD_METADATA_ADDRESSES``, ``CLOUD_METADATA_NAMES``), unspecified, multicast and reserved
addresses. Refused unless ``allow_private`` (``SMSAUTH_ALLOW_PRIVATE_NETWORKS``): loopback,
private (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10) and every other address that
is not globally routable. An IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64 64:ff9b::/96,
6to4) is judged by that IPv4 address.

A host name is resolved and judged by its addresses; when a connection is made, it goes to an
address that was judged (``GuardedResolver`` for aiohttp, ``connect_socket`` for SMTP and SMPP), so
a name that resolves differently a second time (DNS rebinding) cannot slip past.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Instance metadata services (AWS, AWS ECS, GCP IPv6, Alibaba Cloud, Oracle Cloud, AWS IPv6).
CLOUD_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "100.100.100.200",
        "192.0.0.192",
        "fd00:ec2::254",
        "fd20:ce::254",
    )
)
CLOUD_METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
     "instance-data.ec2.internal"}
)  # fmt: skip
NAT64 = ipaddress.ip_network("64:ff9b::/96")
THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
NOT_PERMITTED = "is not a permitted destination"


class DestinationRefused(OSError):
    """A host smsauth must not connect to. An ``OSError`` so that aiohttp's connector passes it
    on (as the ``os_error`` of a ``ClientConnectorDNSError``)."""

    def __init__(self, host: str, why: str) -> None:
        self.reason = f"{host} {NOT_PERMITTED} ({why})"
        super().__init__(self.reason)


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, NAT64 or 6to4), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def url_host(url: str | None) -> str | None:
    """The host of a URL as aiohttp reads it (yarl), or None; IPv6 without brackets."""
    try:
        return URL(url).raw_host if url else None
    except (TypeError, ValueError):
        return None


def literal_address(host: str) -> IPAddress | None:
    """The IP address a host is written as (``[::1]`` brackets allowed), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class DestinationPolicy:
    """Where gateway connections may go; ``allow_private`` admits loopback and private networks."""

    allow_private: bool = True

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why the address is refused ("a link-local address"), or None when it is permitted."""
        ip = address if not isinstance(address, str) else literal_address(address)
        if ip is None:
            return "not an IP address"
        inner = embedded_ipv4(ip)
        if inner is not None:
            return self.refusal(inner)
        if ip in CLOUD_METADATA_ADDRESSES:
            return "a cloud metadata address"
        if ip.is_link_local:
            return "a link-local address"
        if ip.is_unspecified or ip in THIS_NETWORK:
            return "an unspecified address"
        if ip.is_multicast:
            return "a multicast address"
        if ip.is_loopback:
            return None if self.allow_private else self._private("a loopback address")
        if ip.is_reserved:
            return "a reserved address"
        if not ip.is_global:
            return None if self.allow_private else self._private("a private network address")
        return None

    @staticmethod
    def _private(what: str) -> str:
        return f"{what}; SMSAUTH_ALLOW_PRIVATE_NETWORKS is off"

    def host_refusal(self, host: str) -> str | None:
        """What can be said of a host without DNS: a metadata name, or a refused IP literal."""
        if host.rstrip(".").lower() in CLOUD_METADATA_NAMES:
            return "a cloud metadata host name"
        address = literal_address(host)
        return None if address is None else self.refusal(address)

    def resolved_refusal(self, host: str, addresses: Sequence[str]) -> str | None:
        """Why a name is refused given its addresses: the first refused one's reason, or None."""
        if literal_address(host) is not None:
            return self.host_refusal(host)
        for address in addresses:
            why = self.refusal(address)
            if why is not None:
                return f"it resolves to {why}"
        return None

    async def permitted(self, host: str, port: int = 0, *, every: bool = False) -> list[str]:
        """The host's addresses that may be connected to, in the resolver's order.

        ``DestinationRefused`` when none may, or (with ``every``) when any address is refused;
        a name that does not resolve raises ``socket.gaierror`` (an ``OSError``).
        """
        why = self.host_refusal(host)
        if why is not None:
            raise DestinationRefused(host, why)
        addresses = await resolve(host, port)
        allowed = [a for a in addresses if self.refusal(a) is None]
        if not allowed or (every and len(allowed) < len(addresses)):
            raise DestinationRefused(host, self.resolved_refusal(host, addresses) or "no address")
        return allowed


async def resolve(host: str, port: int = 0) -> list[str]:
    """The host's IP addresses (an IP literal is its own), without duplicates."""
    address = literal_address(host)
    if address is not None:
        return [str(address)]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver with refused addresses left out; ``DestinationRefused`` if none is left.

    aiohttp does not ask the resolver about IP literals: check those with ``host_refusal``.
    """

    def __init__(self, policy: DestinationPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        why = self.policy.host_refusal(host)
        if why is not None:
            raise DestinationRefused(host, why)
        results = await self._inner.resolve(host, port, family)
        kept = [r for r in results if self.policy.refusal(r["host"]) is None]
        if not kept:
            why = self.policy.resolved_refusal(host, [r["host"] for r in results])
            raise DestinationRefused(host, why or "no address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


async def connect_socket(addresses: Sequence[str], port: int) -> socket.socket:
    """A non-blocking TCP socket connected to the first of ``addresses`` that accepts.

    The caller bounds the wait; the last connection error is raised when none accepts.
    """
    loop = asyncio.get_running_loop()
    failure: OSError = OSError(f"no address to connect to on port {port}")
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        except BaseException:  # cancelled (a timeout): do not leak the socket
            sock.close()
            raise
        return sock
    raise failure
