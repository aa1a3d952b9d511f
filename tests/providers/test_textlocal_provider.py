"""The ``textlocal`` provider against a local stand-in for api.txtlocal.com.

Each test sends one message and reads the one form the server received, then checks how Textlocal's
replies are classified: Textlocal answers HTTP 200 with ``"status": "failure"`` when it refuses.
"""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.textlocal import provider
from providers.transport import HttpTransport

API_KEY = "NmE0ZjY4NTU3NjRhNDc0ZTZh"
PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")
SENT = {
    "balance": 1162,
    "batch_id": 123456789,
    "cost": 1,
    "num_messages": 1,
    "messages": [{"id": "1151346216", "recipient": 447079692712}],
    "status": "success",
}


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(
    url: str = "https://api.txtlocal.com",
    *,
    username: str | None = None,
    sender_id: str | None = "Acme",
    **parameters: Any,
) -> GatewayConfig:
    """A Textlocal gateway as smsauth hands it over: secret parameters decrypted."""
    return GatewayConfig(
        type="textlocal",
        url=url,
        username=username,
        sender_id=sender_id,
        parameters=parameters,
    )


def local(httpserver: HTTPServer, **kwargs: Any) -> GatewayConfig:
    kwargs.setdefault("APIKEY", API_KEY)
    return gateway(httpserver.url_for("/").rstrip("/"), **kwargs)


def received(httpserver: HTTPServer) -> Request:
    """The one request the server received."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


def form(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.get_data(as_text=True), keep_blank_values=True)


# --- the request -------------------------------------------------------------------------------


async def test_send_posts_a_form_with_the_api_key(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)

    await provider.send(MESSAGE, local(httpserver), transport)

    request = received(httpserver)
    assert request.method == "POST"
    assert request.path == "/send/"
    assert request.query_string == b""
    assert "Authorization" not in request.headers
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert form(request) == {
        "apikey": [API_KEY],
        "numbers": ["447079692712"],
        "message": [TEXT],
        "sender": ["Acme"],
        "custom": ["42"],
    }


async def test_send_uses_the_user_name_and_hash_instead_of_an_api_key(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)
    config = local(httpserver, APIKEY=None, username="me@acme.example", HASH="hash-1")

    await provider.send(MESSAGE, config, transport)

    assert form(received(httpserver)) == {
        "username": ["me@acme.example"],
        "hash": ["hash-1"],
        "numbers": ["447079692712"],
        "message": [TEXT],
        "sender": ["Acme"],
        "custom": ["42"],
    }


async def test_without_a_sender_id_textlocal_uses_the_accounts_default(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)

    await provider.send(MESSAGE, local(httpserver, sender_id=None), transport)

    assert "sender" not in form(received(httpserver))


async def test_receipt_url_is_sent_when_smsauth_has_a_public_url(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)
    callback = "https://smsauth.example/webhooks/sms/42"
    message = OutboundMessage(to=PHONE, text=TEXT, reference="42", callback_url=callback)

    await provider.send(message, local(httpserver), transport)

    assert form(received(httpserver))["receipt_url"] == [callback]


async def test_text_with_braces_percent_signs_and_ampersands_is_sent_unchanged(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)
    text = "Code {phone} is 100% yours %(otp)s {0} &numbers=1"

    await provider.send(
        OutboundMessage(to=PHONE, text=text, reference="42"), local(httpserver), transport
    )

    assert form(received(httpserver))["message"] == [text]


# --- the reply ---------------------------------------------------------------------------------


async def test_success_is_accepted_with_the_message_id(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(SENT)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Accepted(provider_message_id="1151346216")


async def test_failure_is_rejected_with_textlocals_codes_and_messages(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(
        {
            "errors": [
                {"code": 3, "message": "Invalid login details"},
                {"code": 7, "message": "Insufficient credits available"},
            ],
            "status": "failure",
        }
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(
        "Textlocal error 3: Invalid login details; "
        "Textlocal error 7: Insufficient credits available"
    )


async def test_a_failure_quoting_the_number_does_not_repeat_it(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_json(
        {"errors": [{"code": 32, "message": "Invalid number 447079692712"}], "status": "failure"}
    )

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected("Textlocal error 32: Invalid number ***712")


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_throttling_or_server_error_is_unavailable(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_data("down", status)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Unavailable(f"HTTP {status} from Textlocal: down")


@pytest.mark.parametrize("reply", ["<html>Welcome</html>", '{"status": "maybe"}'])
async def test_a_reply_without_a_textlocal_status_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport, reply: str
) -> None:
    httpserver.expect_request("/send/", method="POST").respond_with_data(reply)

    result = await provider.send(MESSAGE, local(httpserver), transport)

    assert result == Rejected(f"not a Textlocal reply: {reply}")


# --- configuration -----------------------------------------------------------------------------


def test_the_declaration_keeps_both_credentials_secret() -> None:
    declared = provider.type

    assert (declared.key, declared.default_url) == ("textlocal", "https://api.txtlocal.com")
    assert [(p.name, p.required, p.secret) for p in declared.parameters] == [
        ("APIKEY", False, True),
        ("HASH", False, True),
    ]


@pytest.mark.parametrize(
    "config",
    [gateway(APIKEY=API_KEY), gateway(username="me@acme.example", HASH="hash-1")],
    ids=["api-key", "username-and-hash"],
)
def test_an_api_key_or_a_user_name_with_its_hash_is_accepted(config: GatewayConfig) -> None:
    assert provider.check_configuration(config) == []


@pytest.mark.parametrize(
    ("config", "field"),
    [
        (gateway(), "parameters.APIKEY"),
        (gateway(APIKEY=API_KEY, username="me@acme.example"), "parameters.APIKEY"),
        (gateway(APIKEY=API_KEY, HASH="hash-1"), "parameters.APIKEY"),
        (gateway(username="me@acme.example"), "parameters.HASH"),
        (gateway(HASH="hash-1"), "username"),
    ],
    ids=["none", "key-and-username", "key-and-hash", "username-only", "hash-only"],
)
def test_exactly_one_way_to_log_in_is_required(config: GatewayConfig, field: str) -> None:
    problems = provider.check_configuration(config)

    assert [p.field for p in problems] == [field]


@pytest.mark.parametrize("sender", ["Jims Autos", "TXTLCL", "447079692712", "Acm"])
def test_a_sender_name_of_3_to_11_characters_or_up_to_13_digits_is_accepted(sender: str) -> None:
    assert provider.check_configuration(gateway(APIKEY=API_KEY, sender_id=sender)) == []


@pytest.mark.parametrize("sender", ["AB", "Jims Autos UK", "12", "12345678901234"])
def test_a_sender_too_short_or_too_long_is_refused(sender: str) -> None:
    problems = provider.check_configuration(gateway(APIKEY=API_KEY, sender_id=sender))

    assert [p.field for p in problems] == ["senderId"]
