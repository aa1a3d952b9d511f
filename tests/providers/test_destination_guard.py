"""The SSRF guard when sending: refused destinations get no connection, whatever the protocol.

The policy is a classification of addresses (no connection is made to a public address here).
The transports are tried against real local servers on 127.0.0.1: a pytest-httpserver, and a
TCP listener that counts the connections it accepts, standing in for a proxy, an SMTP server and
an SMSC. With ``allow_private`` off each of them must see nothing; with the embedded default the
same local servers are reached, which shows the refusal is the guard's and not a dead server.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from providers.base import GatewayConfig, OutboundMessage, Proxy
from providers.destinations import DestinationPolicy
from providers.smpp import provider as smpp
from providers.smpp_receipts import ReceiptListener
from providers.smtp import provider as smtp
from providers.transport import HttpTransport, TransportError

NOT_PERMITTED = "not a permitted destination"
MESSAGE = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")
WAIT = 10  # seconds: the bound on every wait here
STRICT = DestinationPolicy(allow_private=False)
EMBEDDED = DestinationPolicy(allow_private=True)

ALWAYS_REFUSED = [
    ("169.254.169.254", "a cloud metadata address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"),
    ("192.0.0.192", "a cloud metadata address"),
    ("::ffff:169.254.169.254", "a cloud metadata address"),
    ("64:ff9b::a9fe:a9fe", "a cloud metadata address"),  # NAT64 form of 169.254.169.254
    ("169.254.10.20", "a link-local address"),
    ("fe80::1", "a link-local address"),
    ("fe80::1%eth0", "a link-local address"),
    ("0.0.0.0", "an unspecified address"),
    ("::", "an unspecified address"),
    ("224.0.0.251", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("255.255.255.255", "a reserved address"),
]
PRIVATE = [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("::ffff:127.0.0.1", "a loopback address"),
    ("10.0.0.5", "a private network address"),
    ("172.16.4.2", "a private network address"),
    ("192.168.1.1", "a private network address"),
    ("100.64.0.1", "a private network address"),  # shared address space (carrier-grade NAT)
    ("fd12:3456::1", "a private network address"),
    ("::ffff:10.0.0.5", "a private network address"),
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


# --- the policy: a classification ---------------------------------------------------------------


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize(("address", "why"), ALWAYS_REFUSED)
def test_link_local_metadata_and_special_addresses_are_always_refused(
    address: str, why: str, allow_private: bool
) -> None:
    assert DestinationPolicy(allow_private).refusal(address) == why


@pytest.mark.parametrize(("address", "why"), PRIVATE)
def test_loopback_and_private_addresses_are_refused_only_without_private_networks(
    address: str, why: str
) -> None:
    assert EMBEDDED.refusal(address) is None
    assert STRICT.refusal(address) == f"{why}; SMSAUTH_ALLOW_PRIVATE_NETWORKS is off"


@pytest.mark.parametrize("allow_private", [True, False])
@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_permitted(address: str, allow_private: bool) -> None:
    assert DestinationPolicy(allow_private).refusal(address) is None


@pytest.mark.parametrize(
    "name", ["metadata.google.internal", "METADATA.google.internal.", "metadata"]
)
def test_metadata_host_names_are_refused_by_name(name: str) -> None:
    assert EMBEDDED.host_refusal(name) == "a cloud metadata host name"


async def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    with pytest.raises(OSError, match=f"localhost is {NOT_PERMITTED} \\(it resolves to a loopback"):
        await STRICT.permitted("localhost", every=True)
    assert "127.0.0.1" in await EMBEDDED.permitted("localhost", every=True)


# --- HTTP ---------------------------------------------------------------------------------------


@pytest.fixture
async def strict() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport(STRICT)
    yield transport
    await transport.close()


@pytest.fixture
async def embedded() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


class Listener:
    """A local TCP server that counts the connections it accepts and closes each at once."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    counting = Listener()
    server = await asyncio.start_server(counting.accept, "127.0.0.1", 0)
    counting.port = server.sockets[0].getsockname()[1]
    yield counting
    server.close()
    await asyncio.wait_for(server.wait_closed(), WAIT)


def http_config(url: str, **values: Any) -> GatewayConfig:
    return GatewayConfig(type="http", url=url, **({"timeout_seconds": 5} | values))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
async def test_a_loopback_gateway_gets_no_request_without_private_networks(
    httpserver: HTTPServer, strict: HttpTransport, embedded: HttpTransport, host: str
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    url = f"http://{host}:{httpserver.port}/send"

    with pytest.raises(TransportError, match=NOT_PERMITTED):
        await strict.request(http_config(url), "GET", url)

    assert httpserver.log == []
    if host != "[::ffff:127.0.0.1]":  # the control: the same server answers the default policy
        assert (await embedded.request(http_config(url), "GET", url)).text == "OK"


async def test_the_metadata_address_is_refused_even_with_private_networks(
    embedded: HttpTransport,
) -> None:
    url = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(TransportError, match=f"169.254.169.254 is {NOT_PERMITTED}"):
        await embedded.request(http_config(url, timeout_seconds=30), "GET", url)


async def test_a_redirect_to_the_metadata_address_is_not_followed(
    httpserver: HTTPServer, embedded: HttpTransport
) -> None:
    metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
    httpserver.expect_request("/send").respond_with_data(
        "", status=302, headers={"Location": metadata}
    )
    url = httpserver.url_for("/send")

    reply = await embedded.request(http_config(url), "GET", url)

    assert (reply.status, reply.headers["Location"]) == (302, metadata)
    assert len(httpserver.log) == 1


async def test_a_proxy_on_a_private_address_is_not_contacted(
    httpserver: HTTPServer, strict: HttpTransport, listener: Listener
) -> None:
    url = "http://8.8.8.8/send"  # never reached: the proxy is refused first
    proxied = http_config(url, proxy=Proxy(host="127.0.0.1", port=listener.port))

    with pytest.raises(TransportError, match=f"127.0.0.1 is {NOT_PERMITTED}"):
        await strict.request(proxied, "GET", url)
    with pytest.raises(TransportError, match=f"10.1.2.3 is {NOT_PERMITTED}"):
        await strict.request(http_config(url, proxy=Proxy(host="10.1.2.3")), "GET", url)

    assert listener.connections == 0


@pytest.mark.parametrize("target", ["169.254.169.254", "metadata.google.internal"])
async def test_a_proxy_is_not_asked_for_a_refused_target(
    embedded: HttpTransport, listener: Listener, target: str
) -> None:
    url = f"http://{target}/computeMetadata/v1/"
    proxied = http_config(url, proxy=Proxy(host="127.0.0.1", port=listener.port))

    with pytest.raises(TransportError, match=f"{target} is {NOT_PERMITTED}"):
        await embedded.request(proxied, "GET", url)

    assert listener.connections == 0


async def test_a_proxy_is_not_asked_for_a_name_that_resolves_to_loopback(
    strict: HttpTransport, embedded: HttpTransport, listener: Listener
) -> None:
    url = "http://localhost/admin"
    # The proxy resolves the target itself, so smsauth must judge the target's addresses first:
    # without that check this request would fail on the proxy's name, which does not resolve.
    unresolvable_proxy = http_config(url, proxy=Proxy(host="proxy.invalid", port=3128))
    with pytest.raises(TransportError, match=f"localhost is {NOT_PERMITTED}"):
        await strict.request(unresolvable_proxy, "GET", url)

    proxied = http_config(url, proxy=Proxy(host="127.0.0.1", port=listener.port))
    with pytest.raises(TransportError):  # the control: the default policy asks the proxy
        await embedded.request(proxied, "POST", url)  # POST: aiohttp tries it only once
    assert listener.connections == 1


# --- SMTP and SMPP ------------------------------------------------------------------------------


def smtp_config(host: str, port: int) -> GatewayConfig:
    parameters = {
        "SMTP_HOST": host,
        "SMTP_PORT": port,
        "TLS_MODE": "NONE",
        "MAILFROM": "otp@acme.example",
        "MAILTO": "{phone}@sms.example",
        "SUBJECT": "{phone}",
        "BODY": "{otp}",
    }
    return GatewayConfig(type="smtp", timeout_seconds=2, parameters=parameters)


def smpp_config(host: str, port: int) -> GatewayConfig:
    parameters = {"SMSC_HOST": host, "SMSC_PORT": port, "SYSTEM_ID": "esme01", "PASSWORD": "pw"}
    return GatewayConfig(type="smpp", sender_id="Acme", timeout_seconds=2, parameters=parameters)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("config", [smtp_config, smpp_config], ids=["smtp", "smpp"])
async def test_smtp_and_smpp_do_not_connect_to_loopback_without_private_networks(
    strict: HttpTransport, embedded: HttpTransport, listener: Listener, host: str, config: Any
) -> None:
    provider = smtp if config is smtp_config else smpp

    with pytest.raises(TransportError, match=f"{host} is {NOT_PERMITTED}"):
        await asyncio.wait_for(provider.send(MESSAGE, config(host, listener.port), strict), WAIT)
    assert listener.connections == 0

    with pytest.raises(TransportError):  # the control: the listener hangs up on the default
        await asyncio.wait_for(provider.send(MESSAGE, config(host, listener.port), embedded), WAIT)
    assert listener.connections == 1


@pytest.mark.parametrize("config", [smtp_config, smpp_config], ids=["smtp", "smpp"])
async def test_smtp_and_smpp_never_connect_to_the_metadata_address(
    embedded: HttpTransport, config: Any
) -> None:
    provider = smtp if config is smtp_config else smpp
    with pytest.raises(TransportError, match=f"169.254.169.254 is {NOT_PERMITTED}"):
        await asyncio.wait_for(
            provider.send(MESSAGE, config("169.254.169.254", 25), embedded), WAIT
        )


async def test_an_smpp_receiver_does_not_bind_to_a_refused_smsc(
    strict: HttpTransport, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="smsauth.smpp")
    receiver = ReceiptListener(
        smpp_config("127.0.0.1", listener.port),
        lambda receipt: asyncio.sleep(0),
        backoff_seconds=(0.05, 0.1),
        transport=strict,
    )
    receiver.start()
    try:
        deadline = time.monotonic() + WAIT
        while not any(NOT_PERMITTED in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the receiver never tried to bind"
            await asyncio.sleep(0.01)
    finally:
        await asyncio.wait_for(receiver.stop(), WAIT)

    assert listener.connections == 0 and not receiver.bound
