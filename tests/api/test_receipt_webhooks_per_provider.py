"""Delivery receipts end to end for MessageBird, Textlocal and the generic http type.

Each gateway is set up through GraphQL and sends one message, with ``testSmsGateway``, to a local
server that answers as the provider documents it. The receipts then reach smsauth's webhook at
the callback URL the provider got (read from the request the local server received; the http
type passes none, so there it is ``runtime.callback_url``), as each provider makes them:

- MessageBird: a GET of the ``reportUrl`` with ``id``, ``reference``, ``recipient``, ``status``
  ..., signed in ``MessageBird-Signature-JWT``. The JWT is built here with PyJWT as MessageBird's
  "Verify HTTP requests" documents it, independently of the provider module: HS256 with the
  signing key, ``iss`` "MessageBird", ``nbf``, ``exp``, ``jti`` and ``url_hash`` (hex SHA-256 of
  the full URL; no ``payload_hash``, a GET has no body).
- Textlocal: a form POST to the ``receipt_url`` with ``number``, ``status`` (one letter),
  ``customID`` (the ``custom`` value sent: smsauth's reference) and ``datetime``.
- http: whatever the gateway is set up to send; here a Kannel-style query string with the
  ``{reference}`` the option sent, or a JSON body with the ID read by ``RESPONSE_ID_FIELD``.

Statuses are read back through the ``smsMessages`` query.
"""

import asyncio
import dataclasses
import hashlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
import pytest
from pytest_httpserver import HTTPServer

from api.ids import decode_int, decode_uuid
from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY

PUBLIC = "https://sms.example.test"
PHONE = "+447079692712"
DIGITS = PHONE.lstrip("+")

MB_SIGNING_KEY = "mb-signing-key-0123456789abcdef0123"
MB_MESSAGE_ID = "e8077d803532c0b5937c639b60216938"
# MessageBird's documented 201 reply to POST /messages (its API reference, "Send outbound SMS").
MB_CREATED = {
    "id": MB_MESSAGE_ID,
    "href": f"https://rest.messagebird.com/messages/{MB_MESSAGE_ID}",
    "direction": "mt",
    "type": "sms",
    "originator": "Acme",
    "body": "[redacted]",
    "reference": None,
    "validity": None,
    "gateway": None,
    "typeDetails": {},
    "datacoding": "plain",
    "mclass": 1,
    "scheduledDatetime": None,
    "createdDatetime": "2024-05-03T08:58:09+00:00",
    "recipients": {
        "totalCount": 1,
        "totalSentCount": 1,
        "totalDeliveredCount": 0,
        "totalDeliveryFailedCount": 0,
        "items": [
            {"recipient": int(DIGITS), "status": "sent", "statusDatetime": "2024-05-03T08:58:09Z"}
        ],
    },
}
# Textlocal's documented success reply to /send/ ("Send SMS").
TL_SENT = {
    "balance": 1162,
    "batch_id": 123456789,
    "cost": 1,
    "num_messages": 1,
    "message": {"num_parts": 1, "sender": "Acme", "content": "[redacted]"},
    "receipt_url": "",
    "custom": "",
    "messages": [{"id": 1151346216, "recipient": int(DIGITS)}],
    "status": "success",
}
HTTP_RECEIPTS = {
    "RECEIPT_STATUS_FIELD": "stat",
    "RECEIPT_DELIVERED_VALUES": "DELIVRD",
    "RECEIPT_UNDELIVERED_VALUES": "UNDELIV,EXPIRED",
    "RECEIPT_FAILED_VALUES": "REJECTD",
}


@dataclasses.dataclass
class Sent:
    """One message a gateway took, and where its provider sends receipts."""

    gateway: dict[str, Any]
    sms: dict[str, Any]
    callback: str  # the callback URL, token included, exactly as the provider got it
    reference: str  # smsauth's reference as the provider got it

    @property
    def message_id(self) -> int:
        return decode_int(self.sms["id"], "SmsMessage", "message")


def local(url: str) -> str:
    """The path and query of a public URL: what the ASGI app is asked for."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def forged_token(callback: str) -> str:
    return callback.split("token=")[0] + "token=" + "A" * 24


def with_public_url(app: Any) -> Any:
    runtime = app.state.runtime
    runtime.settings = dataclasses.replace(runtime.settings, public_url=PUBLIC)
    return runtime


async def message(admin: Any, sent: Sent) -> dict[str, Any]:
    """The message as ``smsMessages`` shows it."""
    edges = (await admin.data(MESSAGES, gatewayId=sent.gateway["id"]))["smsMessages"]["edges"]
    (node,) = [e["node"] for e in edges if e["node"]["id"] == sent.sms["id"]]
    return node


async def status_of(admin: Any, sent: Sent) -> str:
    return (await message(admin, sent))["status"]


# --- MessageBird -------------------------------------------------------------------------------


def messagebird_jwt(url: str, *, key: str = MB_SIGNING_KEY, **claims: Any) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": "MessageBird",
        "nbf": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
        "url_hash": hashlib.sha256(url.encode()).hexdigest(),
        **claims,
    }
    return jwt.encode(payload, key, algorithm="HS256")


def messagebird_report_url(sent: Sent, status: str, callback: str | None = None, **extra: str):
    """The URL MessageBird GETs: the reportUrl with the report's fields appended."""
    fields = {
        "id": MB_MESSAGE_ID,
        "reference": sent.reference,
        "recipient": DIGITS,
        "status": status,
        "statusDatetime": "2024-05-03T08:58:10+00:00",
        **extra,
    }
    return f"{callback or sent.callback}&{urlencode(fields)}"


async def messagebird_report(
    http: httpx.AsyncClient,
    sent: Sent,
    status: str,
    *,
    callback: str | None = None,
    signature: str | None = None,
    **extra: str,
) -> httpx.Response:
    """A status report signed for its URL, unless ``signature`` says otherwise ("": none)."""
    url = messagebird_report_url(sent, status, callback, **extra)
    signature = messagebird_jwt(url) if signature is None else signature
    headers = {"MessageBird-Signature-JWT": signature} if signature else {}
    return await http.get(local(url), headers=headers)


@pytest.fixture
async def messagebird(admin, app, httpserver: HTTPServer) -> Sent:
    runtime = with_public_url(app)
    httpserver.expect_request("/messages", method="POST").respond_with_json(MB_CREATED, 201)
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "MessageBird",
            "type": "messagebird",
            "url": httpserver.url_for("/"),
            "password": "live_access_key",
            "senderId": "Acme",
            "parameters": {"SIGNING_KEY": MB_SIGNING_KEY},
        },
    )
    sms = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    assert (sms["status"], sms["providerMessageId"]) == ("SENT", MB_MESSAGE_ID)
    request, _ = httpserver.log[-1]
    body = request.get_json()
    gateway_id = decode_uuid(gw["id"], "SmsGateway", "gateway")
    assert body["reportUrl"] == runtime.callback_url(gateway_id)
    assert body["reportUrl"].startswith(f"{PUBLIC}/webhooks/sms/{gateway_id}?token=")
    sent = Sent(gw, sms, body["reportUrl"], body["reference"])
    assert sent.reference == str(sent.message_id)
    return sent


async def test_messagebird_signed_report_moves_the_message_to_delivered(messagebird, http, admin):
    assert await status_of(admin, messagebird) == "SENT"

    response = await messagebird_report(http, messagebird, "delivered")

    assert (response.status_code, response.text) == (200, "ok 1")
    assert await status_of(admin, messagebird) == "DELIVERED"


async def test_messagebird_failure_report_moves_to_undelivered_with_the_reason(
    messagebird, http, admin
):
    response = await messagebird_report(
        http,
        messagebird,
        "delivery_failed",
        statusReason=f"unknown subscriber {DIGITS}",
        statusErrorCode="1",
    )

    assert response.status_code == 200
    node = await message(admin, messagebird)
    assert node["status"] == "UNDELIVERED"
    assert node["errorDetail"] == "delivery_failed: unknown subscriber ***712 (error 1)"


@pytest.mark.parametrize(
    "signature",
    ["", "not-a-jwt", "another-key", "another-url", "expired", "another-issuer"],
)
async def test_messagebird_report_without_a_valid_signature_is_refused_and_changes_nothing(
    messagebird, http, admin, signature
):
    url = messagebird_report_url(messagebird, "delivered")
    an_hour_ago = int(time.time()) - 3600
    tokens = {
        "": "",
        "not-a-jwt": "not-a-jwt",
        "another-key": messagebird_jwt(url, key="another-signing-key-0123456789abcd"),
        "another-url": messagebird_jwt(messagebird_report_url(messagebird, "sent")),
        "expired": messagebird_jwt(url, nbf=an_hour_ago, exp=an_hour_ago + 60),
        "another-issuer": messagebird_jwt(url, iss="Someone"),
    }

    response = await messagebird_report(http, messagebird, "delivered", signature=tokens[signature])

    assert response.status_code == 403
    assert await status_of(admin, messagebird) == "SENT"


async def test_messagebird_wrong_token_is_refused_even_when_signed(messagebird, http, admin):
    forged = forged_token(messagebird.callback)

    response = await messagebird_report(http, messagebird, "delivered", callback=forged)

    assert response.status_code == 403
    assert await status_of(admin, messagebird) == "SENT"


async def test_messagebird_duplicate_and_late_reports_change_nothing(messagebird, http, admin):
    answers = [
        (await messagebird_report(http, messagebird, status)).text
        for status in ("delivered", "delivered", "sent", "buffered", "delivery_failed")
    ]

    assert answers == ["ok 1", "ok 0", "ok 0", "ok 0", "ok 0"]
    node = await message(admin, messagebird)
    assert (node["status"], node["errorDetail"]) == ("DELIVERED", None)


async def test_messagebird_signed_report_without_a_status_is_malformed(messagebird, http, admin):
    url = f"{messagebird.callback}&{urlencode({'id': MB_MESSAGE_ID})}"

    response = await http.get(
        local(url), headers={"MessageBird-Signature-JWT": messagebird_jwt(url)}
    )

    assert response.status_code == 400
    assert await status_of(admin, messagebird) == "SENT"


# --- Textlocal ---------------------------------------------------------------------------------


async def textlocal_receipt(
    http: httpx.AsyncClient, sent: Sent, status: str, *, callback: str | None = None, **fields: str
) -> httpx.Response:
    form = {"number": DIGITS, "status": status, "customID": sent.reference}
    form |= {"datetime": "2024-05-03 08:58:10", **fields}
    return await http.post(local(callback or sent.callback), data=form)


@pytest.fixture
async def textlocal(admin, app, httpserver: HTTPServer) -> Sent:
    runtime = with_public_url(app)
    httpserver.expect_request("/send/", method="POST").respond_with_json(TL_SENT)
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Textlocal",
            "type": "textlocal",
            "url": httpserver.url_for("/"),
            "senderId": "Acme",
            "parameters": {"APIKEY": "textlocal-key"},
        },
    )
    sms = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    assert sms["status"] == "SENT"
    request, _ = httpserver.log[-1]
    gateway_id = decode_uuid(gw["id"], "SmsGateway", "gateway")
    assert request.form["receipt_url"] == runtime.callback_url(gateway_id)
    sent = Sent(gw, sms, request.form["receipt_url"], request.form["custom"])
    assert sent.reference == str(sent.message_id)
    return sent


async def test_textlocal_receipt_moves_the_message_to_delivered(textlocal, http, admin):
    response = await textlocal_receipt(http, textlocal, "D")

    assert (response.status_code, response.text) == (200, "ok 1")
    assert await status_of(admin, textlocal) == "DELIVERED"


@pytest.mark.parametrize(
    ("letter", "status", "detail"),
    [
        ("U", "UNDELIVERED", "U: undelivered: expired at the operator after 48 hours"),
        ("I", "FAILED", "I: invalid number: badly formatted or on no mobile network"),
    ],
)
async def test_textlocal_failure_receipt_moves_the_message_with_its_meaning(
    textlocal, http, admin, letter, status, detail
):
    assert (await textlocal_receipt(http, textlocal, letter)).status_code == 200

    node = await message(admin, textlocal)
    assert (node["status"], node["errorDetail"]) == (status, detail)


async def test_textlocal_wrong_or_missing_token_is_refused(textlocal, http, admin):
    no_token = textlocal.callback.split("?")[0]
    for callback in (forged_token(textlocal.callback), no_token):
        assert (await textlocal_receipt(http, textlocal, "D", callback=callback)).status_code == 403
    assert await status_of(admin, textlocal) == "SENT"


async def test_textlocal_duplicate_and_late_receipts_change_nothing(textlocal, http, admin):
    answers = [
        (await textlocal_receipt(http, textlocal, letter)).text
        for letter in ("D", "D", "P", "?", "U")
    ]

    assert answers == ["ok 1", "ok 0", "ok 0", "ok 0", "ok 0"]
    node = await message(admin, textlocal)
    assert (node["status"], node["errorDetail"]) == ("DELIVERED", None)


async def test_textlocal_pending_receipt_keeps_a_sent_message_sent(textlocal, http, admin):
    assert (await textlocal_receipt(http, textlocal, "P")).text == "ok 0"
    assert await status_of(admin, textlocal) == "SENT"


@pytest.mark.parametrize("missing", ["status", "customID"])
async def test_textlocal_receipt_without_status_or_custom_id_is_malformed(
    textlocal, http, admin, missing
):
    form = {"number": DIGITS, "status": "D", "customID": textlocal.reference}
    del form[missing]

    response = await http.post(local(textlocal.callback), data=form)

    assert response.status_code == 400
    assert await status_of(admin, textlocal) == "SENT"


# --- http: the reference echoed ----------------------------------------------------------------


async def http_receipt(
    http: httpx.AsyncClient, sent: Sent, stat: str, *, callback: str | None = None
) -> httpx.Response:
    """A Kannel-style receipt: a GET with our reference and the status in the query string."""
    query = urlencode({"ref": sent.reference, "stat": stat})
    return await http.get(local(f"{callback or sent.callback}&{query}"))


@pytest.fixture
async def http_gateway(admin, app, httpserver: HTTPServer) -> Sent:
    runtime = with_public_url(app)
    httpserver.expect_request("/send", method="POST").respond_with_data("OK: queued")
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "HTTP",
            "type": "http",
            "url": httpserver.url_for("/send"),
            "parameters": {
                "HTTP_METHOD": "POST",
                "OPTIONS": {"to": "{phone}", "text": "{otp}", "ref": "{reference}"},
                "RETURN_SUCCESS": "OK",
                "RECEIPT_REFERENCE_FIELD": "ref",
                **HTTP_RECEIPTS,
            },
        },
    )
    sms = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    assert (sms["status"], sms["providerMessageId"]) == ("SENT", None)
    request, _ = httpserver.log[-1]
    assert set(request.form) == {"to", "text", "ref"}
    # The http type passes no callback URL: the gateway is set up with the one smsauth computes.
    callback = runtime.callback_url(decode_uuid(gw["id"], "SmsGateway", "gateway"))
    sent = Sent(gw, sms, callback, request.form["ref"])
    assert sent.reference == str(sent.message_id)
    return sent


async def test_http_receipt_with_our_reference_moves_the_message_to_delivered(
    http_gateway, http, admin
):
    response = await http_receipt(http, http_gateway, "DELIVRD")

    assert (response.status_code, response.text) == (200, "ok 1")
    assert await status_of(admin, http_gateway) == "DELIVERED"


@pytest.mark.parametrize(("stat", "status"), [("UNDELIV", "UNDELIVERED"), ("rejectd", "FAILED")])
async def test_http_failure_receipt_moves_the_message_with_the_value(
    http_gateway, http, admin, stat, status
):
    assert (await http_receipt(http, http_gateway, stat)).status_code == 200

    node = await message(admin, http_gateway)
    assert (node["status"], node["errorDetail"]) == (status, stat)


async def test_http_wrong_token_is_refused(http_gateway, http, admin):
    forged = forged_token(http_gateway.callback)

    assert (await http_receipt(http, http_gateway, "DELIVRD", callback=forged)).status_code == 403
    assert await status_of(admin, http_gateway) == "SENT"


async def test_http_duplicate_and_late_receipts_change_nothing(http_gateway, http, admin):
    answers = [
        (await http_receipt(http, http_gateway, stat)).text
        for stat in ("DELIVRD", "DELIVRD", "ENROUTE", "ACCEPTD", "EXPIRED")
    ]

    assert answers == ["ok 1", "ok 0", "ok 0", "ok 0", "ok 0"]
    assert await status_of(admin, http_gateway) == "DELIVERED"


@pytest.mark.parametrize(
    "query", [{"stat": "DELIVRD"}, {"ref": "1"}, {}], ids=["no-ref", "no-stat", "empty"]
)
async def test_http_receipt_without_its_fields_is_malformed(http_gateway, http, admin, query):
    url = f"{http_gateway.callback}&{urlencode(query)}" if query else http_gateway.callback

    assert (await http.get(local(url))).status_code == 400
    assert await status_of(admin, http_gateway) == "SENT"


async def test_http_receipt_for_a_reference_that_is_no_message_changes_nothing(
    http_gateway, http, admin
):
    for reference in ("999999", "abc", "²", "9" * 40, "-1"):
        query = urlencode({"ref": reference, "stat": "DELIVRD"})
        response = await http.get(local(f"{http_gateway.callback}&{query}"))
        assert (response.status_code, response.text) == (200, "ok 0"), reference
    assert await status_of(admin, http_gateway) == "SENT"


# --- http: the gateway's own message ID from its reply -----------------------------------------


async def test_http_receipt_matched_by_the_id_read_from_the_json_reply(
    admin, app, http, httpserver: HTTPServer
):
    runtime = with_public_url(app)
    httpserver.expect_request("/send", method="POST").respond_with_json(
        {"status": "accepted", "data": {"id": "gw-7781"}}
    )
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "HTTP JSON",
            "type": "http",
            "url": httpserver.url_for("/send"),
            "parameters": {
                "HTTP_METHOD": "POST",
                "SEND_DATA_AS_JSON": True,
                "OPTIONS": {"to": "{phone}", "text": "{otp}"},
                "RESPONSE_ID_FIELD": "data.id",
                "RECEIPT_ID_FIELD": "message.id",
                **HTTP_RECEIPTS | {"RECEIPT_STATUS_FIELD": "message.stat"},
            },
        },
    )
    sms = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    assert (sms["status"], sms["providerMessageId"]) == ("SENT", "gw-7781")
    callback = runtime.callback_url(decode_uuid(gw["id"], "SmsGateway", "gateway"))
    sent = Sent(gw, sms, callback, "")

    async def post(message_id: str, stat: str) -> httpx.Response:
        return await http.post(local(callback), json={"message": {"id": message_id, "stat": stat}})

    assert (await post("gw-0000", "DELIVRD")).text == "ok 0"  # another message's ID
    assert await status_of(admin, sent) == "SENT"
    assert (await post("gw-7781", "DELIVRD")).text == "ok 1"
    assert (await post("gw-7781", "EXPIRED")).text == "ok 0"
    node = await message(admin, sent)
    assert (node["status"], node["providerMessageId"]) == ("DELIVERED", "gw-7781")


# --- across gateways and the event bus ---------------------------------------------------------


async def test_a_receipt_moves_only_messages_of_the_gateway_it_came_for(
    messagebird, textlocal, http, admin
):
    """Textlocal's token does not let a receipt move a message MessageBird sent, even by our
    reference: that message's receipts must carry MessageBird's signature."""
    response = await http.post(
        local(textlocal.callback),
        data={"number": DIGITS, "status": "D", "customID": messagebird.reference},
    )

    assert (response.status_code, response.text) == (200, "ok 0")
    assert await status_of(admin, messagebird) == "SENT"
    assert await status_of(admin, textlocal) == "SENT"


Receipt = Callable[[httpx.AsyncClient, Sent, str], Awaitable[httpx.Response]]
RECEIPTS: dict[str, Receipt] = {
    "messagebird": messagebird_report,
    "textlocal": textlocal_receipt,
    "http_gateway": http_receipt,
}


@pytest.fixture
def receipted(request: pytest.FixtureRequest) -> tuple[Sent, Receipt]:
    """The message a gateway of the type ``request.param`` sent, and how its receipts come."""
    return request.getfixturevalue(request.param), RECEIPTS[request.param]


@pytest.mark.parametrize(
    ("receipted", "value", "status", "detail"),
    [
        ("messagebird", "delivered", "DELIVERED", "delivered"),
        ("textlocal", "I", "FAILED", "I: invalid number: badly formatted or on no mobile network"),
        ("http_gateway", "UNDELIV", "UNDELIVERED", "UNDELIV"),
    ],
    indirect=["receipted"],
)
async def test_a_status_change_by_a_receipt_is_published_on_the_tenants_channel(
    receipted, app, tenant, http, value, status, detail
):
    sent, receipt = receipted
    bus = app.state.runtime.bus
    async with bus.subscribe(f"sms:{tenant[0].id}") as events:
        assert (await receipt(http, sent, value)).text == "ok 1"
        event = await asyncio.wait_for(anext(events), 10)
        assert (await receipt(http, sent, value)).text == "ok 0"  # a duplicate publishes nothing
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(events), 0.5)

    gateway_id = decode_uuid(sent.gateway["id"], "SmsGateway", "gateway")
    assert event["tenant_id"] == str(tenant[0].id)
    assert event["message_id"] == sent.message_id
    assert event["gateway_id"] == str(gateway_id)
    assert (event["status"], event["detail"]) == (status, detail)
