"""The HTTP transport's failures: a gateway that is too slow or not there raises ``TransportError``.

A ``TransportError`` means the message was not lost and may be tried again, unlike a reply.
"""

import socket
from collections.abc import AsyncIterator

import pytest
from pytest_httpserver import HTTPServer

from providers.base import GatewayConfig, OutboundMessage
from providers.http import provider
from providers.transport import HttpTransport, TransportError

MESSAGE = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")
PARAMETERS = {"HTTP_METHOD": "GET", "OPTIONS": {"to": "{phone}", "text": "{otp}"}}


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_gateway_slower_than_timeout_raises_transport_error(
    httpserver: HTTPServer, transport: HttpTransport, stalled_handler
) -> None:
    httpserver.expect_request("/send").respond_with_handler(stalled_handler)
    config = GatewayConfig(
        type="http", url=httpserver.url_for("/send"), timeout_seconds=0.3, parameters=PARAMETERS
    )

    with pytest.raises(TransportError) as raised:
        await provider.send(MESSAGE, config, transport)

    assert "0.3 s" in raised.value.reason
    assert "no answer" in raised.value.reason


async def test_closed_port_raises_transport_error_naming_the_address(
    transport: HttpTransport,
) -> None:
    port = closed_port()
    config = GatewayConfig(
        type="http", url=f"http://127.0.0.1:{port}/send", timeout_seconds=5, parameters=PARAMETERS
    )

    with pytest.raises(TransportError) as raised:
        await provider.send(MESSAGE, config, transport)

    assert raised.value.reason == f"cannot connect to 127.0.0.1:{port}"


async def test_transport_can_be_used_again_after_close(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("ID 1")
    config = GatewayConfig(type="http", url=httpserver.url_for("/send"))

    await transport.request(config, "GET", config.url)
    await transport.close()
    reply = await transport.request(config, "GET", config.url)

    assert (reply.status, reply.text) == (200, "ID 1")
