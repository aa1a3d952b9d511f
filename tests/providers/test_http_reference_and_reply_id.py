"""The ``http`` provider's two ways of letting receipts find their message, against a real server.

``{reference}`` in an option sends smsauth's own message ID, which a gateway echoes back in its
receipts (``RECEIPT_REFERENCE_FIELD``); ``RESPONSE_ID_FIELD`` reads the gateway's message ID from
its JSON reply, which receipts then repeat (``RECEIPT_ID_FIELD``).
"""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected
from providers.http import provider, substitute
from providers.transport import HttpTransport

PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
OPTIONS = {"to": "{phone}", "text": "{otp}"}


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(httpserver: HTTPServer, **parameters: Any) -> GatewayConfig:
    """An http gateway at the local server's /send, with every declared default filled in."""
    values = {p.name: p.default for p in provider.type.parameters if p.default is not None}
    values["OPTIONS"] = OPTIONS
    values.update(parameters)
    return GatewayConfig(type="http", url=httpserver.url_for("/send"), parameters=values)


def received(httpserver: HTTPServer) -> Request:
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


# --- {reference} -------------------------------------------------------------------------------


async def test_get_sends_our_reference_where_an_option_asks_for_it(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    config = gateway(httpserver, OPTIONS={**OPTIONS, "ref": "{reference}"})

    await provider.send(MESSAGE, config, transport)

    query = parse_qs(received(httpserver).query_string.decode())
    assert query == {"to": [PHONE], "text": [TEXT], "ref": ["42"]}


async def test_post_json_sends_our_reference_inside_a_longer_value(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_data("OK")
    config = gateway(
        httpserver,
        HTTP_METHOD="POST",
        SEND_DATA_AS_JSON=True,
        OPTIONS={**OPTIONS, "client_ref": "smsauth-{reference}"},
    )

    await provider.send(MESSAGE, config, transport)

    assert json.loads(received(httpserver).get_data()) == {
        "to": PHONE,
        "text": TEXT,
        "client_ref": "smsauth-42",
    }


async def test_a_text_that_says_reference_or_phone_is_sent_as_it_is(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    text = "Code {reference} for {phone}: {otp}"
    message = OutboundMessage(to=PHONE, text=text, reference="42")
    config = gateway(httpserver, OPTIONS={**OPTIONS, "ref": "{reference}"})

    await provider.send(message, config, transport)

    query = parse_qs(received(httpserver).query_string.decode())
    assert query == {"to": [PHONE], "text": [text], "ref": ["42"]}


def test_substitute_leaves_the_reference_tag_alone_without_a_reference() -> None:
    template = "{phone} {otp} {reference} {other}"

    assert substitute(template, PHONE, TEXT) == f"{PHONE} {TEXT} {{reference}} {{other}}"
    assert substitute(template, PHONE, TEXT, "7") == f"{PHONE} {TEXT} 7 {{other}}"


@pytest.mark.parametrize(
    "options",
    [OPTIONS, {**OPTIONS, "ref": "{reference}"}],
    ids=["without-reference", "with-reference"],
)
def test_the_reference_tag_is_optional(options: dict[str, str]) -> None:
    config = GatewayConfig(
        type="http", url="https://sms.example.com/send", parameters={"OPTIONS": options}
    )

    assert provider.check_configuration(config) == []


def test_the_options_help_names_the_reference_tag() -> None:
    options = provider.type.parameter("OPTIONS")

    assert options is not None and "{reference}" in options.help


# --- RESPONSE_ID_FIELD -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "field", "message_id"),
    [
        ({"id": "5c0a8e3f"}, "id", "5c0a8e3f"),
        ({"data": {"messages": {"id": 1151346216}}}, "data.messages.id", "1151346216"),
        ({"message.id": "literal-key"}, "message.id", "literal-key"),
    ],
    ids=["top-level", "dotted-number", "key-with-a-dot"],
)
async def test_the_reply_field_is_the_providers_message_id(
    httpserver: HTTPServer,
    transport: HttpTransport,
    reply: dict[str, Any],
    field: str,
    message_id: str,
) -> None:
    httpserver.expect_request("/send").respond_with_json(reply)

    result = await provider.send(MESSAGE, gateway(httpserver, RESPONSE_ID_FIELD=field), transport)

    assert isinstance(result, Accepted)
    assert result.provider_message_id == message_id


@pytest.mark.parametrize(
    "reply",
    [
        json.dumps({"status": "queued"}),
        json.dumps({"id": None}),
        json.dumps({"id": {"value": "x"}}),
        json.dumps([{"id": "in-a-list"}]),
        "OK 5c0a8e3f",
    ],
    ids=["missing", "null", "object", "list-reply", "not-json"],
)
async def test_a_reply_without_a_plain_id_there_is_still_accepted_without_one(
    httpserver: HTTPServer, transport: HttpTransport, reply: str
) -> None:
    httpserver.expect_request("/send").respond_with_data(reply)

    result = await provider.send(MESSAGE, gateway(httpserver, RESPONSE_ID_FIELD="id"), transport)

    assert isinstance(result, Accepted)
    assert result.provider_message_id is None


async def test_without_the_parameter_no_id_is_read(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data('{"id": "5c0a8e3f"}')

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert result == Accepted(detail='{"id": "5c0a8e3f"}')


async def test_the_success_text_is_still_judged_first(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_json({"id": "5c0a8e3f", "status": "ERROR"})
    config = gateway(httpserver, RESPONSE_ID_FIELD="id", RETURN_FAIL="ERROR")

    result = await provider.send(MESSAGE, config, transport)

    assert isinstance(result, Rejected)


def test_the_reply_id_field_is_declared_plain_and_optional() -> None:
    declared = provider.type.parameter("RESPONSE_ID_FIELD")

    assert declared is not None
    assert (declared.kind, declared.required, declared.secret) == ("string", False, False)
