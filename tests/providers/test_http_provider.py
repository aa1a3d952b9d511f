"""The ``http`` provider against a real local gateway: the exact request sent and how replies count.

Each test points the provider at pytest-httpserver, sends one message and then reads the one request
the gateway received (method, path, query string, body, basic auth) from ``httpserver.log``.
"""

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.http import provider
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


def gateway(
    httpserver: HTTPServer,
    *,
    username: str | None = None,
    password: str | None = None,
    extension: dict[str, str] | None = None,
    **parameters: Any,
) -> GatewayConfig:
    """An http gateway at the local server's /send, with every declared default filled in."""
    values = {p.name: p.default for p in provider.type.parameters if p.default is not None}
    values["OPTIONS"] = OPTIONS
    values.update(parameters)
    return GatewayConfig(
        type="http",
        url=httpserver.url_for("/send"),
        username=username,
        password=password,
        parameters=values,
        extension_parameters=extension or {},
    )


def received(httpserver: HTTPServer) -> Request:
    """The one request the gateway received."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    return httpserver.log[0][0]


def query(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.query_string.decode(), keep_blank_values=True)


def form(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.get_data(as_text=True), keep_blank_values=True)


# --- GET ---------------------------------------------------------------------------------------


async def test_get_sends_options_with_phone_and_otp_in_query(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")

    await provider.send(MESSAGE, gateway(httpserver), transport)

    request = received(httpserver)
    assert request.method == "GET"
    assert request.path == "/send"
    assert query(request) == {"to": [PHONE], "text": [TEXT]}
    assert request.get_data() == b""


async def test_get_encodes_plus_sign_so_the_gateway_reads_the_number_intact(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")

    await provider.send(MESSAGE, gateway(httpserver), transport)

    assert b"to=%2B447079692712" in received(httpserver).query_string


async def test_get_sends_fixed_and_extension_parameters_with_options(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    config = gateway(
        httpserver,
        PARAMETER={"user": "acme", "api_id": "3456"},
        OPTIONS={"to": "{phone}", "text": "Message: {otp}", "from": "Acme"},
        extension={"route": "premium"},
    )

    await provider.send(MESSAGE, config, transport)

    assert query(received(httpserver)) == {
        "user": ["acme"],
        "api_id": ["3456"],
        "route": ["premium"],
        "to": [PHONE],
        "text": [f"Message: {TEXT}"],
        "from": ["Acme"],
    }


async def test_get_replaces_only_known_tags_in_options(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    config = gateway(httpserver, OPTIONS={"to": "{other} {phone}", "text": "{otp} {{otp}}"})

    await provider.send(MESSAGE, config, transport)

    assert query(received(httpserver)) == {
        "to": [f"{{other}} {PHONE}"],
        "text": [f"{TEXT} {{{TEXT}}}"],
    }


@pytest.mark.parametrize(
    "text",
    ["Code {phone} is 100% yours", "50%20off %s %(otp)s {0} {otp} &to=+1"],
)
async def test_get_sends_text_with_braces_and_percent_signs_unchanged(
    httpserver: HTTPServer, transport: HttpTransport, text: str
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    message = OutboundMessage(to=PHONE, text=text, reference="42")

    await provider.send(message, gateway(httpserver), transport)

    assert query(received(httpserver)) == {"to": [PHONE], "text": [text]}


async def test_get_keeps_query_string_already_in_url(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")
    config = gateway(httpserver)
    config = GatewayConfig(
        type="http", url=f"{config.url}?api_id=3456", parameters=config.parameters
    )

    await provider.send(MESSAGE, config, transport)

    assert query(received(httpserver)) == {"api_id": ["3456"], "to": [PHONE], "text": [TEXT]}


# --- POST --------------------------------------------------------------------------------------


async def test_post_sends_parameters_as_form_body(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_data("OK")
    config = gateway(
        httpserver, HTTP_METHOD="POST", PARAMETER={"user": "acme"}, extension={"route": "eu"}
    )

    await provider.send(MESSAGE, config, transport)

    request = received(httpserver)
    assert request.method == "POST"
    assert request.path == "/send"
    assert request.query_string == b""
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert form(request) == {"user": ["acme"], "route": ["eu"], "to": [PHONE], "text": [TEXT]}


async def test_post_json_sends_parameters_as_json_object(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send", method="POST").respond_with_data("OK")
    config = gateway(
        httpserver,
        HTTP_METHOD="POST",
        SEND_DATA_AS_JSON=True,
        PARAMETER={"user": "acme"},
        extension={"route": "eu"},
    )

    await provider.send(MESSAGE, config, transport)

    request = received(httpserver)
    assert request.method == "POST"
    assert request.query_string == b""
    assert request.mimetype == "application/json"
    assert json.loads(request.get_data()) == {
        "user": "acme",
        "route": "eu",
        "to": PHONE,
        "text": TEXT,
    }


async def test_get_ignores_json_setting(httpserver: HTTPServer, transport: HttpTransport) -> None:
    httpserver.expect_request("/send", method="GET").respond_with_data("OK")

    await provider.send(MESSAGE, gateway(httpserver, SEND_DATA_AS_JSON=True), transport)

    request = received(httpserver)
    assert query(request) == {"to": [PHONE], "text": [TEXT]}
    assert request.get_data() == b""


# --- phone format ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_digits_phone_format_drops_plus_sign(
    httpserver: HTTPServer, transport: HttpTransport, method: str
) -> None:
    httpserver.expect_request("/send", method=method).respond_with_data("OK")
    config = gateway(httpserver, HTTP_METHOD=method, PHONE_FORMAT="DIGITS")

    await provider.send(MESSAGE, config, transport)

    request = received(httpserver)
    sent = query(request) if method == "GET" else form(request)
    assert sent == {"to": ["447079692712"], "text": [TEXT]}


# --- basic authentication ----------------------------------------------------------------------


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_sends_basic_auth_when_username_set(
    httpserver: HTTPServer, transport: HttpTransport, method: str
) -> None:
    httpserver.expect_request("/send", method=method).respond_with_data("OK")
    config = gateway(httpserver, username="AC123", password="s3cret:pass", HTTP_METHOD=method)

    await provider.send(MESSAGE, config, transport)

    assert received(httpserver).headers["Authorization"] == basic("AC123:s3cret:pass")


async def test_sends_basic_auth_with_empty_password_when_only_username_set(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")

    await provider.send(MESSAGE, gateway(httpserver, username="AC123"), transport)

    assert received(httpserver).headers["Authorization"] == basic("AC123:")


async def test_sends_no_authorization_without_username(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("OK")

    await provider.send(MESSAGE, gateway(httpserver, password="unused"), transport)

    assert "Authorization" not in received(httpserver).headers


# --- reply text --------------------------------------------------------------------------------


async def test_reply_containing_success_text_is_accepted(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("ID: 5c0a8e3f")

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_SUCCESS="ID"), transport)

    assert isinstance(result, Accepted)
    assert result.detail == "ID: 5c0a8e3f"


async def test_reply_without_success_text_is_rejected_with_the_reply(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("ERR: 001, Authentication failed")

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_SUCCESS="ID"), transport)

    assert isinstance(result, Rejected)
    assert "ERR: 001, Authentication failed" in result.reason


async def test_reply_containing_failure_text_is_rejected_with_the_reply(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("status=FAILED insufficient credit")

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_FAIL="FAILED"), transport)

    assert isinstance(result, Rejected)
    assert "insufficient credit" in result.reason


async def test_reply_without_failure_text_is_accepted(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("status=QUEUED")

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_FAIL="FAILED"), transport)

    assert isinstance(result, Accepted)


async def test_any_2xx_reply_is_accepted_without_success_or_failure_text(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    httpserver.expect_request("/send").respond_with_data("", status=204)

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert result == Accepted(detail=None)


@pytest.mark.parametrize("content_type", ["text/plain", "text/html", None])
async def test_reply_without_charset_is_read_as_utf8(
    httpserver: HTTPServer, transport: HttpTransport, content_type: str | None
) -> None:
    response = Response("OK ID 12 – envoyé".encode())
    if content_type is None:
        del response.headers["Content-Type"]
    else:
        response.headers["Content-Type"] = content_type
    httpserver.expect_request("/send").respond_with_response(response)

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_SUCCESS="ID"), transport)

    assert result == Accepted(detail="OK ID 12 – envoyé")


async def test_reply_arriving_in_pieces_is_judged_on_its_whole_text(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    def pieces() -> Any:
        yield "status=OK"
        time.sleep(0.1)  # the second piece arrives separately
        yield " ID 5c0a8e3f"

    httpserver.expect_request("/send").respond_with_response(
        Response(pieces(), content_type="text/plain; charset=utf-8")
    )

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_SUCCESS="ID"), transport)

    assert result == Accepted(detail="status=OK ID 5c0a8e3f")


# --- HTTP status -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 422])
async def test_non_2xx_client_status_is_rejected_with_the_status(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/send").respond_with_data("bad request, ID missing", status=status)

    result = await provider.send(MESSAGE, gateway(httpserver, RETURN_SUCCESS="ID"), transport)

    assert isinstance(result, Rejected)
    assert f"HTTP {status}" in result.reason
    assert "bad request" in result.reason


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_server_error_or_throttling_is_unavailable_with_the_status(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/send").respond_with_data("try later", status=status)

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Unavailable)
    assert f"HTTP {status}" in result.reason
    assert "try later" in result.reason
