"""Delivery receipts at /webhooks/sms/{gatewayId}: token, provider signature, forward-only.

Twilio's signature is computed here as Twilio documents it (HMAC-SHA1 with the Auth Token over
the URL and the sorted POST parameters, base64), independently of the provider module.
"""

import base64
import dataclasses
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "twilio-auth-token-123"
PUBLIC = "https://sms.example.test"
PHONE = "+447079692712"


def twilio_signature(url: str, params: dict[str, str]) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(
        hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()


@pytest.fixture
async def twilio(admin, app, httpserver):
    """A Twilio gateway on the local server; smsauth knows its public URL."""
    runtime = app.state.runtime
    runtime.settings = dataclasses.replace(runtime.settings, public_url=PUBLIC)
    path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    httpserver.expect_request(path, method="POST").respond_with_json({"sid": "SM" + "1" * 32}, 201)
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Twilio",
            "type": "twilio",
            "url": httpserver.url_for("/"),
            "accountId": ACCOUNT_SID,
            "password": AUTH_TOKEN,
            "senderId": "+15005550006",
        },
    )
    sent = await admin.ok(TEST_GATEWAY, id=gw["id"], phone=PHONE, text="hi")
    ((request, _),) = httpserver.log
    callback = request.form["StatusCallback"]
    assert callback.startswith(f"{PUBLIC}/webhooks/sms/") and "token=" in callback
    return {"gateway": gw, "sms": sent, "callback": callback}


async def post_receipt(http, callback: str, status: str, *, signature: str | None = None):
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": status, "AccountSid": ACCOUNT_SID}
    signature = signature if signature is not None else twilio_signature(callback, params)
    parts = urlsplit(callback)
    return await http.post(
        f"{parts.path}?{parts.query}", data=params, headers={"X-Twilio-Signature": signature}
    )


async def status_of(admin) -> str:
    return (await admin.data(MESSAGES))["smsMessages"]["edges"][0]["node"]["status"]


async def test_signed_receipt_moves_the_message_to_delivered(twilio, http, admin):
    assert await status_of(admin) == "SENT"
    response = await post_receipt(http, twilio["callback"], "delivered")
    assert response.status_code == 200
    assert await status_of(admin) == "DELIVERED"


async def test_badly_signed_or_unsigned_receipt_is_refused_and_changes_nothing(twilio, http, admin):
    assert (
        await post_receipt(http, twilio["callback"], "delivered", signature="bogus")
    ).status_code == 403
    assert (
        await post_receipt(http, twilio["callback"], "delivered", signature="")
    ).status_code == 403
    assert await status_of(admin) == "SENT"


async def test_wrong_webhook_token_is_refused_even_with_a_valid_provider_signature(
    twilio, http, admin
):
    forged = twilio["callback"].split("token=")[0] + "token=forged"
    assert (await post_receipt(http, forged, "delivered")).status_code == 403
    assert await status_of(admin) == "SENT"


async def test_duplicate_and_late_receipts_never_move_a_message_back(twilio, http, admin):
    for status in ("delivered", "delivered", "sent", "undelivered"):
        assert (await post_receipt(http, twilio["callback"], status)).status_code == 200
    assert await status_of(admin) == "DELIVERED"


async def test_unknown_gateway_is_not_found(http):
    response = await http.post("/webhooks/sms/6a1b0f0e-0000-4000-8000-000000000000?token=x")
    assert response.status_code == 404
    assert (await http.post("/webhooks/sms/not-a-uuid")).status_code == 404


async def test_token_is_per_gateway(twilio, http, admin):
    other = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Twilio 2",
            "type": "twilio",
            "accountId": ACCOUNT_SID,
            "password": AUTH_TOKEN,
            "senderId": "+15005550006",
        },
    )
    from api.ids import decode_uuid

    token = parse_qs(urlsplit(twilio["callback"]).query)["token"][0]
    other_id = decode_uuid(other["id"], "SmsGateway", "gateway")
    borrowed = f"{PUBLIC}/webhooks/sms/{other_id}?token={token}"
    assert (await post_receipt(http, borrowed, "delivered")).status_code == 403


async def test_admins_read_the_receipt_url_of_a_gateway(twilio, admin):
    found = await admin.data(
        "query($id: ID!) { smsGateway(id: $id) { receiptUrl } }", id=twilio["gateway"]["id"]
    )
    assert found["smsGateway"]["receiptUrl"] == twilio["callback"]


async def test_a_receipt_for_one_part_of_a_long_message_finds_it(twilio, app, admin):
    from domain import receipts
    from domain.models import SmsGateway, SmsMessage
    from providers.base import Receipt

    row = await SmsMessage.first()
    await SmsMessage.filter(id=row.id).update(provider_message_id="part-1,part-22,part-3")
    gateway = await SmsGateway.get(id=row.gateway_id)
    runtime = app.state.runtime
    assert await receipts.apply(runtime, gateway, [Receipt("part-2", "DELIVERED")]) == 0
    assert await receipts.apply(runtime, gateway, [Receipt("part-22", "DELIVERED")]) == 1
    assert await status_of(admin) == "DELIVERED"
