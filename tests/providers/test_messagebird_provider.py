"""The ``messagebird`` provider against a local stand-in for rest.messagebird.com.

Each test sends one message and reads the one request the server received (method, path, the
``AccessKey`` header and the JSON body), then checks how MessageBird's replies are classified.
"""

import json
from collections.abc import AsyncIterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.messagebird import provider
from providers.transport import HttpTransport

ACCESS_KEY = "live_AbCdEf123456"
PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
MESSAGE_ID = "49e40bae0b374f1ca5e3d04d46edc7c1"


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(url: str = "https://rest.messagebird.com", sender_id: str = "Acme") -> GatewayConfig:
    """A MessageBird gateway as smsauth hands it over: the access key decrypted."""
    return GatewayConfig(type="messagebird", url=url, password=ACCESS_KEY, sender_id=sender_id)


def local(httpserver: HTTPServer) -> GatewayConfig:
    return gateway(httpserver.url_for("/").rstrip("/"))


def received(httpserver: HTTPServer) -> Request:
    """The one request the server received."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


# --- the request -------------------------------------------------------------------------------


async def test_send_posts_the_message_as_json_with_the_access_key(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json({"id": MESSAGE_ID}, 201)

    await provider.send(MESSAGE, local(httpserver), transport)

    request = received(httpserver)
    assert request.method == "POST"
    assert request.path == "/messages"
    assert request.query_string == b""
    assert request.headers["Authorization"] == f"AccessKey {ACCESS_KEY}"
    assert request.mimetype == "application/json"
    assert json.loads(request.get_data()) == {
        "recipients": "447079692712",
        "originator": "Acme",
        "body": TEXT,
        "reference": "42",
    }


async def test_report_url_is_sent_when_smsauth_has_a_public_url(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json({"id": MESSAGE_ID}, 201)
    callback = "https://smsauth.example/webhooks/sms/42"
    message = OutboundMessage(to=PHONE, text=TEXT, reference="42", callback_url=callback)

    await provider.send(message, local(httpserver), transport)

    assert json.loads(received(httpserver).get_data())["reportUrl"] == callback


async def test_text_with_braces_and_percent_signs_is_sent_unchanged(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json({"id": MESSAGE_ID}, 201)
    text = 'Code {phone} is 100% "yours" %(otp)s {0}'

    await provider.send(
        OutboundMessage(to=PHONE, text=text, reference="42"), local(httpserver), transport
    )

    assert json.loads(received(httpserver).get_data())["body"] == text


# --- the reply ---------------------------------------------------------------------------------


async def test_created_message_is_accepted_with_its_id(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"id": MESSAGE_ID, "originator": "Acme", "reference": "42"}, 201
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Accepted(provider_message_id=MESSAGE_ID)


async def test_messagebird_errors_are_rejected_with_their_codes_and_descriptions(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {
            "errors": [
                {
                    "code": 9,
                    "description": "no (correct) recipients found",
                    "parameter": "recipients",
                },
                {"code": 9, "description": "originator is too long", "parameter": "originator"},
            ]
        },
        422,
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(
        "HTTP 422: MessageBird error 9: no (correct) recipients found; "
        "MessageBird error 9: originator is too long"
    )


async def test_a_wrong_access_key_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {
            "errors": [
                {
                    "code": 2,
                    "description": "Request not allowed (incorrect access_key)",
                    "parameter": "access_key",
                }
            ]
        },
        401,
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(
        "HTTP 401: MessageBird error 2: Request not allowed (incorrect access_key)"
    )


async def test_an_error_quoting_the_number_does_not_repeat_it(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json(
        {"errors": [{"code": 25, "description": "Not enough balance to send to 447079692712"}]},
        422,
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(
        "HTTP 422: MessageBird error 25: Not enough balance to send to ***712"
    )


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_throttling_or_server_error_is_unavailable(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_data("try later", status)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Unavailable(f"HTTP {status} from MessageBird: try later")


async def test_success_status_without_a_message_id_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/messages", method="POST").respond_with_json({}, 201)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("HTTP 201 without a message ID: {}")


# --- configuration -----------------------------------------------------------------------------


def test_the_declaration_needs_the_access_key_and_the_originator() -> None:
    declared = provider.type

    assert (declared.key, declared.default_url) == ("messagebird", "https://rest.messagebird.com")
    assert declared.required_fields == ("password", "senderId")
    assert "11" in declared.description


@pytest.mark.parametrize(
    "originator", ["Acme", "Acme Clinic", "A1", "31612345678", "+31612345678", "447079692712345"]
)
def test_a_name_of_up_to_11_characters_or_a_phone_number_is_a_valid_originator(
    originator: str,
) -> None:
    assert provider.check_configuration(gateway(sender_id=originator)) == []


@pytest.mark.parametrize(
    "originator",
    ["AcmeClinicXY", "Acme-Shop", "Acme!", "Ünïcode", "   ", "1234567890123456", "+", ""],
)
def test_a_longer_name_other_characters_or_a_longer_number_are_refused(originator: str) -> None:
    problems = provider.check_configuration(gateway(sender_id=originator))

    assert [p.field for p in problems] == ["senderId"]
