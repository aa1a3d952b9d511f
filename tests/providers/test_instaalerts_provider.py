"""The ``instaalerts`` provider against a local stand-in for japi.instaalerts.zone.

Each test sends one message and reads the one query string the server received, then checks how the
one-line replies (``... Request ID=... & Statuscode=... & Info=... & Time=...``) are classified.
"""

import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.instaalerts import provider
from providers.transport import HttpTransport, TransportError

PATH = "/httpapi/QueryStringReceiver"
API_KEY = "WVDLxrEy+dZ/8w6aJLQ=="
PHONE = "+917079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
ACCEPTED = (
    "Request accepted for Request ID=8215130420214573 & Statuscode=200 & "
    "Info=Platform Accepted & Time=2024-05-02 10:11:12"
)
REFUSED = (
    "Invalid Credentials for Request ID=N/A & Statuscode=-108 & Info=REJECTED & "
    "Time=2024-05-02 10:11:12"
)


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(url: str = "https://japi.instaalerts.zone", **parameters: Any) -> GatewayConfig:
    """An InstaAlerts gateway as smsauth hands it over: the API key decrypted."""
    return GatewayConfig(
        type="instaalerts",
        url=url,
        sender_id="ACMEOT",
        parameters={"APIKEY": API_KEY, **parameters},
    )


def local(httpserver: HTTPServer, **parameters: Any) -> GatewayConfig:
    return gateway(httpserver.url_for("/").rstrip("/"), **parameters)


def received(httpserver: HTTPServer) -> Request:
    """The one request the server received."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


# --- the request -------------------------------------------------------------------------------


async def test_send_gets_the_query_string_receiver_with_key_sender_number_and_text(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(ACCEPTED)

    await provider.send(MESSAGE, local(httpserver), transport)

    request = received(httpserver)
    assert request.method == "GET"
    assert request.path == PATH
    assert request.get_data() == b""
    assert "Authorization" not in request.headers
    assert query(request) == {
        "ver": ["1.0"],
        "key": [API_KEY],
        "encrpt": ["0"],
        "dest": ["917079692712"],
        "send": ["ACMEOT"],
        "text": [TEXT],
    }


async def test_dlt_ids_are_sent_when_set(httpserver: HTTPServer, transport: HttpTransport) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(ACCEPTED)
    config = local(
        httpserver, DLT_ENTITY_ID="1101538550000021740", DLT_TEMPLATE_ID="1107170349275465220"
    )

    await provider.send(MESSAGE, config, transport)

    sent = query(received(httpserver))
    assert sent["dlt_entity_id"] == ["1101538550000021740"]
    assert sent["dlt_template_id"] == ["1107170349275465220"]


async def test_no_callback_parameter_is_sent_since_none_is_documented(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(ACCEPTED)
    message = OutboundMessage(
        to=PHONE, text=TEXT, reference="42", callback_url="https://smsauth.example/webhooks/sms/42"
    )

    await provider.send(message, local(httpserver), transport)

    assert set(query(received(httpserver))) == {"ver", "key", "encrpt", "dest", "send", "text"}


async def test_key_and_text_with_reserved_characters_arrive_intact(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(ACCEPTED)
    text = "Code {phone} is 100% yours & send=X+1 %(otp)s {0}"

    await provider.send(
        OutboundMessage(to=PHONE, text=text, reference="42"), local(httpserver), transport
    )

    sent = query(received(httpserver))
    assert (sent["key"], sent["text"], sent["send"]) == ([API_KEY], [text], ["ACMEOT"])


# --- the reply ---------------------------------------------------------------------------------


async def test_status_code_200_is_accepted_with_the_request_id(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(ACCEPTED)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Accepted(provider_message_id="8215130420214573")


async def test_another_status_code_is_rejected_with_the_reply(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(REFUSED)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(f"InstaAlerts status -108: {REFUSED}")


async def test_a_reply_without_a_status_code_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data("<html>Maintenance</html>")

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("not an InstaAlerts reply: <html>Maintenance</html>")


async def test_a_refusal_quoting_the_number_does_not_repeat_it(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data(
        "Invalid Destination 917079692712 for Request ID=N/A & Statuscode=-201 & Info=REJECTED"
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert isinstance(result, Rejected)
    assert "status -201" in result.reason
    assert "7079692712" not in result.reason


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_or_server_error_is_unavailable(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data("busy", status)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Unavailable(f"HTTP {status} from InstaAlerts: busy")


async def test_other_http_errors_are_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="GET").respond_with_data("Forbidden", 403)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("HTTP 403: Forbidden")


async def test_an_unreachable_gateway_raises_transport_error(transport: HttpTransport) -> None:
    with socket.socket() as sock:  # a local port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(TransportError) as raised:
        await provider.send(MESSAGE, gateway(f"http://127.0.0.1:{port}"), transport)

    assert raised.value.reason == f"cannot connect to 127.0.0.1:{port}"


# --- configuration -----------------------------------------------------------------------------


def test_the_declaration_needs_a_secret_api_key_and_a_sender_id() -> None:
    declared = provider.type

    assert (declared.key, declared.default_url) == ("instaalerts", "https://japi.instaalerts.zone")
    assert declared.required_fields == ("senderId",)
    assert [(p.name, p.required, p.secret) for p in declared.parameters] == [
        ("APIKEY", True, True),
        ("DLT_ENTITY_ID", False, False),
        ("DLT_TEMPLATE_ID", False, False),
    ]
    assert provider.check_configuration(gateway()) == []
