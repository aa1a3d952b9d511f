"""The ``acme`` type against a real local HTTP server: the exact request and how replies count.

Run with ``pytest`` in this directory after installing the package into smsauth's environment.
"""

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from acme_sms_gateway.provider import provider
from pytest_httpserver import HTTPServer

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.registry import registered
from providers.transport import HttpTransport, TransportError

MESSAGE = OutboundMessage(to="+447079692712", text="Your code is 123456", reference="42")


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(url: str, **parameters: Any) -> GatewayConfig:
    """A gateway as smsauth hands it over: declared defaults filled in, secrets decrypted."""
    defaults = {p.name: p.default for p in provider.type.parameters if p.default is not None}
    return GatewayConfig(
        type="acme",
        url=url,
        sender_id="Acme",
        timeout_seconds=5,
        parameters=defaults | {"API_TOKEN": "token-1"} | parameters,
    )


async def test_send_posts_the_message_as_json_with_the_token(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_oneshot_request("/v1/messages", method="POST").respond_with_json(
        {"id": "m-1"}, status=201
    )

    result = await provider.send(MESSAGE, gateway(httpserver.url_for("/v1")), transport)

    assert result == Accepted(provider_message_id="m-1")
    httpserver.check_assertions()
    ((request, _),) = httpserver.log
    assert request.headers["Authorization"] == "Bearer token-1"
    assert json.loads(request.get_data()) == {
        "from": "Acme",
        "to": "+447079692712",
        "text": "Your code is 123456",
        "reference": "42",
        "region": "EU",
    }


@pytest.mark.parametrize(
    ("status", "kind"), [(400, Rejected), (429, Unavailable), (503, Unavailable)]
)
async def test_replies_are_classified(
    httpserver: HTTPServer, transport: HttpTransport, status: int, kind: type
) -> None:
    httpserver.expect_request("/v1/messages").respond_with_json(
        {"error": "bad number +447079692712"}, status=status
    )

    result = await provider.send(MESSAGE, gateway(httpserver.url_for("/v1")), transport)

    assert isinstance(result, kind)
    assert "7079692712" not in result.reason  # never a whole number in a reason


async def test_an_unreachable_gateway_raises_transport_error(transport: HttpTransport) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(TransportError):
        await provider.send(MESSAGE, gateway(f"http://127.0.0.1:{port}/v1"), transport)


def test_a_limit_below_one_and_a_long_sender_name_are_refused() -> None:
    config = gateway("https://x.example", DAILY_LIMIT=0)
    long_name = GatewayConfig(type="acme", sender_id="A very long name", parameters={})

    assert [p.field for p in provider.check_configuration(config)] == ["parameters.DAILY_LIMIT"]
    assert [p.field for p in provider.check_configuration(long_name)] == ["senderId"]


def test_the_entry_point_registers_the_type_as_custom() -> None:
    entry = registered()["acme"]

    assert entry.provider is provider
    assert entry.custom is True
