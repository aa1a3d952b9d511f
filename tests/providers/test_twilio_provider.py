"""The ``twilio`` provider against a local stand-in for api.twilio.com: the request and the replies.

Each test points the gateway's URL at pytest-httpserver, sends one message and reads the one request
the server received (method, path, basic auth, form fields) from ``httpserver.log``.
"""

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.transport import HttpTransport, TransportError
from providers.twilio import provider

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
SERVICE_SID = "MG" + "fedcba9876543210" * 2
AUTH_TOKEN = "token:with-colon"
FROM = "+15005550006"
PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
MESSAGE_SID = "SM" + "1" * 32


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(
    url: str = "https://api.twilio.com",
    *,
    account_id: str | None = ACCOUNT_SID,
    sender_id: str | None = FROM,
    timeout_seconds: float = 10.0,
    **parameters: Any,
) -> GatewayConfig:
    """A Twilio gateway as smsauth hands it over: the Auth Token decrypted."""
    return GatewayConfig(
        type="twilio",
        url=url,
        account_id=account_id,
        password=AUTH_TOKEN,
        sender_id=sender_id,
        timeout_seconds=timeout_seconds,
        parameters=parameters,
    )


def local(httpserver: HTTPServer, **kwargs: Any) -> GatewayConfig:
    return gateway(httpserver.url_for("/").rstrip("/"), **kwargs)


def received(httpserver: HTTPServer) -> Request:
    """The one request the server received."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


def form(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.get_data(as_text=True), keep_blank_values=True)


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# --- the request -------------------------------------------------------------------------------


async def test_send_posts_a_form_to_the_accounts_messages_resource_with_basic_auth(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": MESSAGE_SID}, 201)

    await provider.send(MESSAGE, local(httpserver), transport)

    request = received(httpserver)
    assert request.method == "POST"
    assert request.path == PATH
    assert request.query_string == b""
    assert request.headers["Authorization"] == basic(f"{ACCOUNT_SID}:{AUTH_TOKEN}")
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert form(request) == {"To": [PHONE], "Body": [TEXT], "From": [FROM]}


async def test_messaging_service_sid_is_sent_instead_of_a_from_number(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": MESSAGE_SID}, 201)
    config = local(httpserver, sender_id=None, MESSAGING_SERVICE_SID=SERVICE_SID)

    await provider.send(MESSAGE, config, transport)

    assert form(received(httpserver)) == {
        "To": [PHONE],
        "Body": [TEXT],
        "MessagingServiceSid": [SERVICE_SID],
    }


async def test_status_callback_is_sent_when_smsauth_has_a_public_url(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": MESSAGE_SID}, 201)
    callback = "https://smsauth.example/webhooks/sms/42"
    message = OutboundMessage(to=PHONE, text=TEXT, reference="42", callback_url=callback)

    await provider.send(message, local(httpserver), transport)

    assert form(received(httpserver))["StatusCallback"] == [callback]


async def test_a_url_ending_in_a_slash_reaches_the_same_resource(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": MESSAGE_SID}, 201)

    await provider.send(MESSAGE, gateway(httpserver.url_for("/")), transport)

    assert received(httpserver).path == PATH


@pytest.mark.parametrize("text", ["Code {phone} is 100% yours", "%s %(otp)s {0} {otp} &To=+1"])
async def test_text_with_braces_percent_signs_and_ampersands_is_sent_unchanged(
    httpserver: HTTPServer, transport: HttpTransport, text: str
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json({"sid": MESSAGE_SID}, 201)
    message = OutboundMessage(to=PHONE, text=text, reference="42")

    await provider.send(message, local(httpserver), transport)

    assert form(received(httpserver))["Body"] == [text]


# --- the reply ---------------------------------------------------------------------------------


async def test_created_message_is_accepted_with_its_sid(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"sid": MESSAGE_SID, "status": "queued", "to": PHONE}, 201
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Accepted(provider_message_id=MESSAGE_SID)


async def test_twilio_error_is_rejected_with_its_code_and_message_without_the_number(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {
            "code": 21211,
            "message": f"The 'To' number {PHONE} is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400,
        },
        400,
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert isinstance(result, Rejected)
    assert "HTTP 400" in result.reason
    assert (
        "Twilio error 21211: The 'To' number ***712 is not a valid phone number." in result.reason
    )
    assert "7079692712" not in result.reason


async def test_wrong_credentials_are_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"code": 20003, "message": "Authenticate", "status": 401}, 401
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("HTTP 401: Twilio error 20003: Authenticate")


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_or_server_error_is_unavailable(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_json(
        {"code": 20429, "message": "Too Many Requests", "status": status}, status
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Unavailable(
        f"HTTP {status} from Twilio: Twilio error 20429: Too Many Requests"
    )


async def test_success_status_without_a_message_sid_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_data("<html>Welcome</html>")

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("HTTP 200 without a message SID: <html>Welcome</html>")


async def test_twilio_slower_than_the_timeout_raises_transport_error(
    httpserver: HTTPServer, transport: HttpTransport, stalled_handler
) -> None:
    httpserver.expect_request(PATH, method="POST").respond_with_handler(stalled_handler)

    with pytest.raises(TransportError) as raised:
        await provider.send(MESSAGE, local(httpserver, timeout_seconds=0.3), transport)

    assert raised.value.reason == "no answer within 0.3 s"


# --- configuration -----------------------------------------------------------------------------


def test_the_declaration_uses_the_account_fields_and_twilios_url() -> None:
    declared = provider.type

    assert (declared.key, declared.default_url, declared.url_editable) == (
        "twilio",
        "https://api.twilio.com",
        True,
    )
    assert declared.required_fields == ("accountId", "password")
    assert [(p.name, p.required, p.secret) for p in declared.parameters] == [
        ("MESSAGING_SERVICE_SID", False, False)
    ]


@pytest.mark.parametrize(
    "config",
    [gateway(), gateway(sender_id=None, MESSAGING_SERVICE_SID=SERVICE_SID)],
    ids=["from-number", "messaging-service"],
)
def test_a_from_number_or_a_messaging_service_is_accepted(config: GatewayConfig) -> None:
    assert provider.check_configuration(config) == []


def test_neither_a_from_number_nor_a_messaging_service_is_refused() -> None:
    problems = provider.check_configuration(gateway(sender_id=None))

    assert [p.field for p in problems] == ["senderId"]


def test_both_a_from_number_and_a_messaging_service_are_refused() -> None:
    problems = provider.check_configuration(gateway(MESSAGING_SERVICE_SID=SERVICE_SID))

    assert [p.field for p in problems] == ["parameters.MESSAGING_SERVICE_SID"]
    assert "not both" in problems[0].message


@pytest.mark.parametrize("account_id", ["AC123", "SK" + "0" * 32, f"{ACCOUNT_SID}/../x"])
def test_an_account_id_that_is_not_an_account_sid_is_refused(account_id: str) -> None:
    problems = provider.check_configuration(gateway(account_id=account_id))

    assert [p.field for p in problems] == ["accountId"]


def test_a_messaging_service_sid_of_the_wrong_form_is_refused() -> None:
    config = gateway(sender_id=None, MESSAGING_SERVICE_SID="MG123")

    problems = provider.check_configuration(config)

    assert [p.field for p in problems] == ["parameters.MESSAGING_SERVICE_SID"]
