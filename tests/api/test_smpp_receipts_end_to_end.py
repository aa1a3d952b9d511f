"""SMPP delivery receipts end to end: submit_sm through the API, the receipt on a bound receiver.

The local SMSC (``ReceiverSmsc`` from the provider tests) answers submit_sm with the message ID
"abc123" and delivers receipts for it to the first receiver that binds. The test settings run no
dispatcher, so each test starts the receipt manager itself; every wait is bounded.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest

from api.ids import decode_uuid
from domain.smpp_receipts import SmppReceipts
from tests.api.graphql_documents import CREATE_GATEWAY, TEST_GATEWAY, UPDATE_GATEWAY
from tests.providers.test_smpp_receipts import (
    BIND_RECEIVER,
    DELIVER_SM,
    UNBIND,
    WAIT,
    ReceiverSmsc,
    deliver_sm_body,
    eventually,
    receipt_text,
)

PHONE = "+447079692712"
MESSAGE = """query($id: ID!) { node(id: $id) { ... on SmsMessage {
  status errorDetail providerMessageId } } }"""


@pytest.fixture
async def smsc() -> AsyncIterator[ReceiverSmsc]:
    fake = ReceiverSmsc(submit_id="abc123")
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    yield fake
    server.close()
    await asyncio.wait_for(server.wait_closed(), WAIT)


async def create_smpp_gateway(admin, smsc: ReceiverSmsc, name="SMSC", **parameters) -> dict:
    given = {"SMSC_HOST": "127.0.0.1", "SMSC_PORT": smsc.port, "SYSTEM_ID": "esme01"}
    return await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": name,
            "type": "smpp",
            "senderId": name[:11],
            "timeoutSeconds": 5,
            "parameters": given | {"PASSWORD": "s3cret"} | parameters,
        },
    )


async def status_of(admin, sms_id: str) -> dict:
    return (await admin.data(MESSAGE, id=sms_id))["node"]


async def wait_for_status(admin, sms_id: str, status: str) -> None:
    for _ in range(int(WAIT / 0.02)):
        if (await status_of(admin, sms_id))["status"] == status:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not {status} within {WAIT} s")


async def test_a_receipt_on_the_receiver_session_marks_the_message_delivered(
    admin, app, tenant, smsc
):
    smsc.batches = [
        [
            deliver_sm_body(receipt_text("abc123", "DELIVRD")),
            deliver_sm_body(receipt_text("abc123", "DELIVRD")),  # a duplicate
            deliver_sm_body(receipt_text("abc123", "UNDELIV", err="034")),  # a late contradiction
        ]
    ]
    gateway = await create_smpp_gateway(admin, smsc)
    sent = await admin.ok(TEST_GATEWAY, id=gateway["id"], phone=PHONE, text="Test 1")
    assert (sent["status"], sent["providerMessageId"]) == ("SENT", "abc123")
    assert BIND_RECEIVER not in smsc.commands()  # nothing listens yet

    manager = app.state.smpp_receipts
    async with app.state.runtime.bus.subscribe(f"sms:{tenant[0].id}") as events:
        manager.start()
        try:
            await wait_for_status(admin, sent["id"], "DELIVERED")
            await eventually(lambda: len(smsc.responses(DELIVER_SM)) == 3)
            first = await asyncio.wait_for(anext(events), WAIT)
            with pytest.raises(TimeoutError):  # the duplicate and the late receipt: no event
                await asyncio.wait_for(anext(events), 0.5)
        finally:
            await asyncio.wait_for(manager.stop(), WAIT)

    gateway_id = decode_uuid(gateway["id"], "SmsGateway", "gateway")
    assert (first["status"], first["gateway_id"]) == ("DELIVERED", str(gateway_id))
    assert [r.status for r in smsc.responses(DELIVER_SM)] == [0, 0, 0]
    assert await status_of(admin, sent["id"]) == {
        "status": "DELIVERED",
        "errorDetail": None,
        "providerMessageId": "abc123",
    }
    assert smsc.commands().count(UNBIND) == 2  # the transmitter, and stop() for the receiver


async def test_the_manager_follows_gateways_created_and_changed_later(admin, app, smsc):
    manager = SmppReceipts(app.state.runtime, rescan_seconds=0.05)
    manager.start()
    try:
        await asyncio.sleep(0.1)
        assert smsc.connections == 0
        gateway = await create_smpp_gateway(admin, smsc)
        await eventually(lambda: smsc.commands().count(BIND_RECEIVER) == 1)

        await admin.ok(UPDATE_GATEWAY, id=gateway["id"], input={"enabled": False})
        await eventually(lambda: UNBIND in smsc.commands())

        await admin.ok(UPDATE_GATEWAY, id=gateway["id"], input={"enabled": True})
        await eventually(lambda: smsc.commands().count(BIND_RECEIVER) == 2)

        changed = {"SMSC_HOST": "127.0.0.1", "SMSC_PORT": smsc.port, "SYSTEM_ID": "esme01"}
        changed["SYSTEM_TYPE"] = "OTP"  # the password is kept: secrets need not be sent again
        await admin.ok(UPDATE_GATEWAY, id=gateway["id"], input={"parameters": changed})
        await eventually(lambda: smsc.commands().count(BIND_RECEIVER) == 3)
        last_bind = [r for r in smsc.received if r.command_id == BIND_RECEIVER][-1]
        assert last_bind.body.split(b"\0")[:3] == [b"esme01", b"s3cret", b"OTP"]
    finally:
        await asyncio.wait_for(manager.stop(), WAIT)
    assert smsc.commands().count(UNBIND) == 3


async def test_gateways_on_one_smsc_account_share_one_receiver(admin, app, smsc):
    await create_smpp_gateway(admin, smsc, name="Acme")
    second = await create_smpp_gateway(admin, smsc, name="AcmeAlerts")
    sent = await admin.ok(TEST_GATEWAY, id=second["id"], phone=PHONE, text="Test 2")
    smsc.batches = [[deliver_sm_body(receipt_text("abc123", "REJECTD", err="011"))]]
    manager = SmppReceipts(app.state.runtime, rescan_seconds=0.05)
    manager.start()
    try:
        await wait_for_status(admin, sent["id"], "UNDELIVERED")
        await asyncio.sleep(0.2)  # a few more scans: still the one receiver
    finally:
        await asyncio.wait_for(manager.stop(), WAIT)
    assert smsc.commands().count(BIND_RECEIVER) == 1
    assert (await status_of(admin, sent["id"]))["errorDetail"] == "stat:REJECTD err:011"


async def test_no_receiver_binds_for_a_gateway_without_delivery_receipts(admin, app, smsc):
    await create_smpp_gateway(admin, smsc, REGISTERED_DELIVERY=False)
    manager = SmppReceipts(app.state.runtime, rescan_seconds=0.05)
    manager.start()
    try:
        await asyncio.sleep(0.3)
    finally:
        await asyncio.wait_for(manager.stop(), WAIT)
    assert smsc.connections == 0
