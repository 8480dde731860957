"""Keep page fetches on the public internet.

A model chooses the URLs ``fetch_page`` opens, and a page it reads may have
been written to steer it; without a guard it could read a cloud metadata
service or anything on the machine's private network. The check happens
where the connection is made: every connection of the HTTP client goes
through ``GuardedBackend``, which resolves the host name itself, refuses the
connection if any address is not a public one, and then connects to the very
address it checked. A DNS answer that changes between check and connect
cannot slip through, and a redirect is a new connection, checked again.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore2
import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack
        "169.254.170.2",  # AWS container credentials
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddressError(Exception):
    """A fetch would have connected to an address that is not public."""


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses page fetches may connect to: public ones only.

    Args:
        loopback_ports: Ports on this machine's loopback address that may be
            reached anyway. Empty by default; tests set it to reach their
            own local server and nothing else.
    """

    loopback_ports: frozenset[int] = field(default_factory=frozenset)


def refusal(address: str, port: int, policy: AddressPolicy) -> str | None:
    """Why a connection to ``address:port`` is refused, or None if it is allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return refusal(str(embedded), port, policy)
    if ip.is_loopback:
        return None if port in policy.loopback_ports else "a loopback address"
    return _kind(ip)


def _kind(ip: IPAddress) -> str | None:
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.version == 4 and ip in SHARED_SPACE:
        return "a carrier-grade NAT address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64)."""
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, after resolving them itself."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy
        self._inner = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        addresses = await _resolve(host, port)
        for address in addresses:
            reason = refusal(address, port, self.policy)
            if reason is not None:
                raise BlockedAddressError(
                    f"{host} resolves to {address}, {reason}; only public "
                    "addresses may be fetched"
                )

        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore2.ConnectError as exc:
                error = exc
        raise error or httpcore2.ConnectError(f"cannot connect to {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise BlockedAddressError("page fetches never use local sockets")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise httpcore2.ConnectError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise httpcore2.ConnectError(f"{host} has no address")
    return list(dict.fromkeys(addresses))


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """httpx transport whose every connection goes through ``GuardedBackend``."""

    def __init__(self, policy: AddressPolicy) -> None:
        # No proxies from the environment: a proxy would make the connection,
        # and the address check would see only the proxy.
        context = _ssl_context()
        super().__init__(verify=context, trust_env=False)
        # The public transport takes no network backend; its connection pool
        # does, so the pool is replaced by an equivalent one that has ours.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context, network_backend=GuardedBackend(policy)
        )


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the certificate store takes tens of milliseconds; one context
    # serves every fetch of the process.
    return httpx2.create_ssl_context(trust_env=False)


def guarded_client(policy: AddressPolicy, timeout: float) -> httpx2.AsyncClient:
    """An HTTP client that never follows redirects and only reaches public hosts."""
    return httpx2.AsyncClient(
        transport=GuardedTransport(policy),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "leadgen/0.1 (company research)"},
    )
