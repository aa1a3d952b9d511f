"""Every built-in gateway type through the API: declared in smsGatewayTypes, and sending for real.

Each type gets one gateway with valid settings that point at a real local server playing its
provider: pytest-httpserver answers the HTTP-based types with the provider's success reply,
aiosmtpd takes the mail of ``smtp``, and a small asyncio SMSC (from the SMPP provider tests) the
PDUs of ``smpp``. ``testSmsGateway`` must answer a sent message, and ``smsMessages`` must list it.
"""

import asyncio
import xmlrpc.client
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer

from providers.base import COMMON_FIELDS
from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY
from tests.providers.test_proxy_and_tls import (
    PROXY_PASSWORD,
    PROXY_USER,
    VIA,
    AuthProxy,
    running_proxy,
)
from tests.providers.test_smpp_provider import SUBMIT, FakeSmsc
from tests.providers.test_smtp_provider import Handler, free_port

BUILTINS = {
    "test",
    "http",
    "twilio",
    "messagebird",
    "textlocal",
    "instaalerts",
    "sipgate",
    "smtp",
    "smpp",
}
PHONE = "+447079692712"
WAIT = 10  # seconds: the bound on starting and stopping the local servers
GATEWAY_TYPES = """{ smsGatewayTypes { key name description custom defaultUrl urlEditable
  requiredFields parameters { name label required secret default help kind choices } } }"""
GENERATED = "<generated>"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
INSTAALERTS_ACCEPTED = (
    "Request accepted for Request ID=8215130420214573 & Statuscode=200 & "
    "Info=Platform Accepted & Time=2024-05-02 10:11:12"
)


async def test_gateway_types_are_the_builtins_with_documented_parameters(admin):
    types = {t["key"]: t for t in (await admin.data(GATEWAY_TYPES))["smsGatewayTypes"]}

    assert {key for key, t in types.items() if not t["custom"]} == BUILTINS  # plug-ins: custom
    for key in BUILTINS:
        declared = types[key]
        assert declared["name"] and declared["description"], key
        assert set(declared["requiredFields"]) <= set(COMMON_FIELDS), key
        for parameter in declared["parameters"]:
            where = f"{key}.{parameter['name']}"
            assert parameter["label"].strip() and parameter["help"].strip(), where
            if parameter["secret"]:
                assert parameter["default"] is None, where
            if parameter["kind"] == "choice":
                assert parameter["choices"], where


# --- one real send per type --------------------------------------------------------------------


@dataclass(frozen=True)
class Smtp:
    handler: Handler
    port: int


@asynccontextmanager
async def running_smtp(request: pytest.FixtureRequest) -> AsyncIterator[Smtp]:
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, ready_timeout=WAIT)
    await asyncio.to_thread(controller.start)
    try:
        yield Smtp(handler, port)
    finally:
        await asyncio.to_thread(controller.stop)


@asynccontextmanager
async def running_smsc(request: pytest.FixtureRequest) -> AsyncIterator[FakeSmsc]:
    fake = FakeSmsc()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), WAIT)


def pytest_httpserver(request: pytest.FixtureRequest) -> AbstractAsyncContextManager[HTTPServer]:
    return nullcontext(request.getfixturevalue("httpserver"))


def no_server(request: pytest.FixtureRequest) -> AbstractAsyncContextManager[None]:
    return nullcontext()


def base(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def http(server: HTTPServer) -> dict[str, Any]:
    server.expect_oneshot_request("/send", method="POST").respond_with_data("OK id=1")
    return {
        "url": server.url_for("/send"),
        "parameters": {
            "HTTP_METHOD": "POST",
            "RETURN_SUCCESS": "OK",
            "OPTIONS": {"to": "{phone}", "text": "{otp}"},
        },
    }


def twilio(server: HTTPServer) -> dict[str, Any]:
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    server.expect_oneshot_request(path, method="POST").respond_with_json({"sid": "SM1"}, 201)
    return {
        "url": base(server),
        "accountId": ACCOUNT_SID,
        "password": "tok",
        "senderId": "+15005550006",
    }


def messagebird(server: HTTPServer) -> dict[str, Any]:
    server.expect_oneshot_request("/messages", method="POST").respond_with_json({"id": "mb1"}, 201)
    return {"url": base(server), "password": "live_key", "senderId": "Acme"}


def textlocal(server: HTTPServer) -> dict[str, Any]:
    reply = {"status": "success", "messages": [{"id": "1151346216", "recipient": 447079692712}]}
    server.expect_oneshot_request("/send/", method="POST").respond_with_json(reply)
    return {"url": base(server), "senderId": "Acme", "parameters": {"APIKEY": "key"}}


def instaalerts(server: HTTPServer) -> dict[str, Any]:
    path = "/httpapi/QueryStringReceiver"
    server.expect_oneshot_request(path, method="GET").respond_with_data(INSTAALERTS_ACCEPTED)
    return {"url": base(server), "senderId": "ACMEOT", "parameters": {"APIKEY": "key"}}


def sipgate(server: HTTPServer) -> dict[str, Any]:
    reply = xmlrpc.client.dumps(({"StatusCode": 200, "SessionID": "sg1"},), methodresponse=True)
    server.expect_oneshot_request("/RPC2", method="POST").respond_with_data(
        reply, content_type="text/xml"
    )
    return {"url": server.url_for("/RPC2"), "username": "2904718", "password": "pw"}


def smtp_gateway(server: Smtp) -> dict[str, Any]:
    return {
        "parameters": {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": server.port,
            "TLS_MODE": "NONE",
            "MAILFROM": "otp@acme.example",
            "MAILTO": "{phone}@sms.example",
        }
    }


def smpp_gateway(server: FakeSmsc) -> dict[str, Any]:
    parameters = {"SMSC_HOST": "127.0.0.1", "SMSC_PORT": server.port}
    return {"senderId": "Acme", "parameters": parameters | {"SYSTEM_ID": "esme", "PASSWORD": "pw"}}


@dataclass(frozen=True)
class Case:
    """A type's local server, its gateway settings for that server and the message ID it gives."""

    server: Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Any]]
    gateway: Callable[[Any], dict[str, Any]]
    message_id: str | None  # GENERATED: any non-empty ID (it is made up per message)


HTTP_CASES = {
    "http": Case(pytest_httpserver, http, None),  # the generic type has no message ID
    "twilio": Case(pytest_httpserver, twilio, "SM1"),
    "messagebird": Case(pytest_httpserver, messagebird, "mb1"),
    "textlocal": Case(pytest_httpserver, textlocal, "1151346216"),
    "instaalerts": Case(pytest_httpserver, instaalerts, "8215130420214573"),
    "sipgate": Case(pytest_httpserver, sipgate, "sg1"),
}
CASES = HTTP_CASES | {
    "test": Case(no_server, lambda _: {}, GENERATED),
    "smtp": Case(running_smtp, smtp_gateway, GENERATED),
    "smpp": Case(running_smsc, smpp_gateway, "msg-1"),
}


def received(server: Any) -> int:
    """How many messages the local server took."""
    if isinstance(server, HTTPServer):
        server.check_assertions()
        return len(server.log)
    if isinstance(server, Smtp):
        return len(server.handler.mails)
    if isinstance(server, FakeSmsc):
        return [r.command_id for r in server.received].count(SUBMIT)
    return 1  # the test gateway keeps the message itself


def test_every_builtin_type_has_a_case() -> None:
    assert set(CASES) == BUILTINS


@pytest.mark.parametrize("key", sorted(CASES))
async def test_every_type_sends_a_test_sms(admin, request, key):
    case = CASES[key]
    async with case.server(request) as server:
        given = {"name": f"{key} gateway", "type": key, "timeoutSeconds": 5}
        gw = await admin.ok(CREATE_GATEWAY, input=given | case.gateway(server))

        sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="Test 1")

        assert received(server) == 1
    assert sent["status"] == ("DELIVERED" if key == "test" else "SENT")
    if case.message_id == GENERATED:
        assert sent["providerMessageId"]
    else:
        assert sent["providerMessageId"] == case.message_id
    listed = (await admin.data(MESSAGES, gatewayId=gw["id"]))["smsMessages"]["edges"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in listed] == [
        (sent["id"], sent["status"])
    ]


# --- the proxy, for every HTTP-based type ------------------------------------------------------


@pytest.fixture
async def proxy() -> AsyncIterator[AuthProxy]:
    async with running_proxy() as running:
        yield running


@pytest.mark.parametrize("key", sorted(HTTP_CASES))
async def test_every_http_type_sends_only_through_its_authenticating_proxy(
    admin, httpserver, proxy, key
):
    given = {"name": key, "type": key, "timeoutSeconds": 5} | HTTP_CASES[key].gateway(httpserver)
    given["proxy"] = {
        "host": "127.0.0.1",
        "port": proxy.port,
        "username": PROXY_USER,
        "password": PROXY_PASSWORD,
    }
    gw = await admin.ok(CREATE_GATEWAY, input=given)
    assert gw["proxy"]["hasPassword"] is True

    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="Test 1")

    assert sent["status"] == "SENT"
    assert [(s.method, s.credentials) for s in proxy.seen] == [
        (httpserver.log[0][0].method, (PROXY_USER, PROXY_PASSWORD))
    ]
    assert proxy.seen[0].target.startswith(base(httpserver) + "/")
    ((request, _),) = httpserver.log
    assert request.headers["Via"] == VIA and "Proxy-Authorization" not in request.headers
