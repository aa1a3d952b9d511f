"""The ``sipgate`` provider against a real local XML-RPC endpoint: the exact call and its results.

pytest-httpserver plays sipgate's ``/RPC2``; each test reads back the one request it received and
decodes its body with ``xmlrpc.client.loads``, then answers with a real XML-RPC reply or fault.
"""

import base64
import xmlrpc.client
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from providers.base import Accepted, GatewayConfig, OutboundMessage, Rejected, Unavailable
from providers.sipgate import provider
from providers.transport import HttpTransport, TransportError

PHONE = "+447079692712"
TEXT = "Your code is 123456"
MESSAGE = OutboundMessage(to=PHONE, text=TEXT, reference="42")


@pytest.fixture
async def transport() -> AsyncIterator[HttpTransport]:
    transport = HttpTransport()
    yield transport
    await transport.close()


def gateway(httpserver: HTTPServer, **fields: Any) -> GatewayConfig:
    values = {"username": "2904718", "password": "s3cret:pass"} | fields
    return GatewayConfig(type="sipgate", url=httpserver.url_for("/RPC2"), **values)


def xmlrpc_reply(value: Any) -> Response:
    body = xmlrpc.client.dumps((value,), methodresponse=True)
    return Response(body, content_type="text/xml")


def answer(httpserver: HTTPServer, value: Any) -> None:
    httpserver.expect_request("/RPC2", method="POST").respond_with_response(xmlrpc_reply(value))


def received_call(httpserver: HTTPServer) -> tuple[Request, str, dict[str, Any]]:
    """The one request the endpoint received: the request, the method name and the struct."""
    httpserver.check_assertions()
    assert len(httpserver.log) == 1
    request = httpserver.log[0][0]
    params, method = xmlrpc.client.loads(request.get_data())
    (struct,) = params
    return request, method, struct


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# --- the call ----------------------------------------------------------------------------------


async def test_send_calls_session_initiate_with_text_struct_and_basic_auth(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    answer(httpserver, {"StatusCode": 200, "StatusString": "Method success", "SessionID": "abc"})

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert result == Accepted(provider_message_id="abc")
    request, method, struct = received_call(httpserver)
    assert request.method == "POST"
    assert request.path == "/RPC2"
    assert request.mimetype == "text/xml"
    assert request.headers["Authorization"] == basic("2904718:s3cret:pass")
    assert method == "samurai.SessionInitiate"
    assert struct == {"RemoteUri": "sip:447079692712@sipgate.net", "TOS": "text", "Content": TEXT}


async def test_sender_id_is_sent_as_local_uri(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    answer(httpserver, {"StatusCode": 200, "SessionID": "abc"})

    await provider.send(MESSAGE, gateway(httpserver, sender_id="+4921100000"), transport)

    _, _, struct = received_call(httpserver)
    assert struct["LocalUri"] == "sip:4921100000@sipgate.net"
    assert struct["RemoteUri"] == "sip:447079692712@sipgate.net"


@pytest.mark.parametrize(
    "text", ["<b>code</b> & 123456 ]]>", "Código: 123456 – ✓", "{otp} %s {phone}"]
)
async def test_text_with_markup_and_non_ascii_arrives_unchanged(
    httpserver: HTTPServer, transport: HttpTransport, text: str
) -> None:
    answer(httpserver, {"StatusCode": 200})
    message = OutboundMessage(to=PHONE, text=text, reference="42")

    result = await provider.send(message, gateway(httpserver), transport)

    assert result == Accepted(provider_message_id=None)
    assert received_call(httpserver)[2]["Content"] == text


# --- XML-RPC results ---------------------------------------------------------------------------


async def test_fault_is_rejected_with_the_fault_string(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    fault = xmlrpc.client.Fault(407, "Remote end unknown")
    body = xmlrpc.client.dumps(fault, methodresponse=True)
    httpserver.expect_request("/RPC2").respond_with_data(body, content_type="text/xml")

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Rejected)
    assert "407" in result.reason
    assert "Remote end unknown" in result.reason


async def test_status_code_other_than_200_is_rejected_with_the_status(
    httpserver: HTTPServer, transport: HttpTransport
) -> None:
    answer(httpserver, {"StatusCode": 502, "StatusString": "Invalid parameter value."})

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Rejected)
    assert "502" in result.reason
    assert "Invalid parameter value." in result.reason


@pytest.mark.parametrize(
    "body", ["OK", "<html>maintenance</html>", xmlrpc.client.dumps(("no struct",), "x")]
)
async def test_reply_that_is_not_an_xmlrpc_struct_is_rejected(
    httpserver: HTTPServer, transport: HttpTransport, body: str
) -> None:
    httpserver.expect_request("/RPC2").respond_with_data(body, content_type="text/xml")

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Rejected)
    assert "XML-RPC" in result.reason


# --- HTTP status -------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_credentials_are_rejected(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/RPC2").respond_with_data("Unauthorized", status=status)

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Rejected)
    assert f"HTTP {status}" in result.reason
    assert "s3cret" not in result.reason


@pytest.mark.parametrize("status", [404, 400])
async def test_other_client_status_is_rejected_with_the_reply(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/RPC2").respond_with_data("no such endpoint", status=status)

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert result == Rejected(f"HTTP {status}: no such endpoint")


@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_server_error_or_throttling_is_unavailable(
    httpserver: HTTPServer, transport: HttpTransport, status: int
) -> None:
    httpserver.expect_request("/RPC2").respond_with_data("try later", status=status)

    result = await provider.send(MESSAGE, gateway(httpserver), transport)

    assert isinstance(result, Unavailable)
    assert f"HTTP {status}" in result.reason


# --- transport ---------------------------------------------------------------------------------


async def test_unreachable_endpoint_raises_transport_error(transport: HttpTransport) -> None:
    config = GatewayConfig(
        type="sipgate", url="http://127.0.0.1:9/RPC2", username="u", password="p"
    )

    with pytest.raises(TransportError):
        await provider.send(MESSAGE, config, transport)


async def test_gateway_timeout_applies(
    httpserver: HTTPServer, transport: HttpTransport, stalled_handler: Any
) -> None:
    httpserver.expect_request("/RPC2").respond_with_handler(stalled_handler)

    with pytest.raises(TransportError, match="no answer within 0.5 s"):
        await provider.send(MESSAGE, gateway(httpserver, timeout_seconds=0.5), transport)


# --- declaration -------------------------------------------------------------------------------


def test_type_declares_sipgate_url_credentials_and_no_parameters() -> None:
    declared = provider.type

    assert declared.key == "sipgate"
    assert declared.default_url == "https://samurai.sipgate.net/RPC2"
    assert declared.url_editable is True
    assert declared.required_fields == ("username", "password")
    assert declared.parameters == ()
