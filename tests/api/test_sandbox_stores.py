"""Sandbox identity stores through GraphQL: every code goes to the tenant's built-in test gateway
(never to the linked HTTP gateway of the flow tests, nor its backup), in the request, and is read
back with its text in smsMessages; a sandbox store needs no gateway of its own."""

import re

import pytest

from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    SET_POLICY,
    UPDATE_GATEWAY,
    UPSERT_USER,
)
from tests.api.otp_documents import RESEND, START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.api.otp_support import PHONE, result

SANDBOX_MESSAGES = """
{ smsMessages(first: 20) { edges { node { id to status text test gateway { id } } } } }"""

GATEWAY_LIST = "{ smsGateways { id name type } }"

SANDBOX_FIELD = "query($id: ID!) { identityStore(id: $id) { smsAuthentication { sandbox } } }"


def code_in(text: str) -> str:
    return re.search(r"\d{6}", text).group()


async def sandbox_gateway(admin) -> dict:
    gateways = (await admin.data(GATEWAY_LIST))["smsGateways"]
    (found,) = [g for g in gateways if g["name"] == "Sandbox (built in)"]
    return found


async def messages(admin) -> list[dict]:
    return [e["node"] for e in (await admin.data(SANDBOX_MESSAGES))["smsMessages"]["edges"]]


@pytest.fixture
async def s(setup):
    """The OTP bench's store (linked to the local HTTP gateway, with an HTTP backup, sending
    through the outbox) switched to sandbox."""
    backup = await setup.admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Backup",
            "type": "http",
            "url": "http://127.0.0.1:9/never",
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    await setup.admin.ok(
        CONFIGURE_SMS,
        store=setup.store,
        input={"sandbox": True, "synchronousSending": False, "backupGatewayId": backup["id"]},
    )
    return setup


async def test_a_sandbox_stores_codes_go_to_the_test_gateway_with_their_text(s):
    shown = await s.admin.data(SANDBOX_FIELD, id=s.store)
    assert shown["identityStore"]["smsAuthentication"]["sandbox"] is True
    sandbox = await sandbox_gateway(s.admin)
    assert sandbox["type"] == "test"
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert challenge["sms"]["status"] == "DELIVERED", challenge  # sent in the request
    (message,) = await messages(s.admin)
    assert message["gateway"]["id"] == sandbox["id"] and message["test"] is False
    assert message["text"].startswith("Your Acme code is "), message
    assert s.gateway.received == []
    enrolled = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code_in(message["text"])
    )
    assert "maskedPhoneNumber" in enrolled, enrolled


async def test_a_sandbox_resend_goes_to_the_test_gateway_too(s, frozen_clock):
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    frozen_clock.advance(seconds=31)
    resent = await result(s.service, RESEND, challenge=challenge["id"])
    assert resent["sms"]["status"] == "DELIVERED", resent
    assert len(await messages(s.admin)) == 2 and s.gateway.received == []


async def test_leaving_the_sandbox_sends_through_the_linked_gateway_again(s):
    await s.admin.ok(
        CONFIGURE_SMS, store=s.store, input={"sandbox": False, "synchronousSending": True}
    )
    await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert [r["to"] for r in s.gateway.received] == [PHONE]


async def test_a_sandbox_store_works_with_no_gateway_linked(admin, setup):
    store = await admin.ok(CREATE_STORE, name="Front-end playground")
    role = await admin.ok(CREATE_ROLE, store=store["id"], name="testers")
    await admin.ok(SET_POLICY, role=role["id"], input={"smsEnabled": True})
    await admin.ok(UPSERT_USER, store=store["id"], input={"userId": "dev", "roles": ["testers"]})
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"gatewayId": None})
    refused = await result(admin, CONFIGURE_SMS, store=store["id"], input={"enabled": True})
    assert refused["code"] == "VALIDATION" and refused["field"] == "gatewayId", refused
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"enabled": True, "sandbox": True})
    challenge = await result(
        setup.service, START_ENROLLMENT, store=store["id"], user="dev", phone=PHONE
    )
    assert challenge["sms"]["status"] == "DELIVERED", challenge
    assert setup.gateway.received == []
    # Leaving the sandbox with no gateway linked would leave SMS enabled with nothing to send.
    back = await result(admin, CONFIGURE_SMS, store=store["id"], input={"sandbox": False})
    assert back["code"] == "VALIDATION" and back["field"] == "gatewayId", back


async def test_a_gateway_of_another_type_never_becomes_the_sandbox(setup):
    await setup.admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Sandbox (built in)",
            "type": "http",
            "url": "http://127.0.0.1:9/never",
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    refused = await result(setup.admin, CONFIGURE_SMS, store=setup.store, input={"sandbox": True})
    assert refused["code"] == "VALIDATION" and refused["field"] == "sandbox", refused


async def test_a_failed_sandbox_send_never_moves_on_to_a_real_gateway(setup, app):
    """The sandbox's test gateway switched off: the start answers GATEWAY_UNAVAILABLE, and the
    dispatcher never retries the message, nor hands it to the store's backup (the local HTTP
    gateway here)."""
    dummy = await setup.admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Primary",
            "type": "http",
            "url": "http://127.0.0.1:9/never",
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    local = (await setup.admin.data(GATEWAY_LIST))["smsGateways"]
    (local_id,) = [g["id"] for g in local if g["name"] == "Local"]
    await setup.admin.ok(
        CONFIGURE_SMS,
        store=setup.store,
        input={
            "gatewayId": dummy["id"],
            "backupGatewayId": local_id,
            "sandbox": True,
            "synchronousSending": False,
        },
    )
    sandbox = await sandbox_gateway(setup.admin)
    await setup.admin.ok(UPDATE_GATEWAY, id=sandbox["id"], input={"enabled": False})
    answer = await result(
        setup.service, START_ENROLLMENT, store=setup.store, user="alice", phone=PHONE
    )
    assert answer["code"] == "GATEWAY_UNAVAILABLE", answer
    assert await app.state.dispatcher.drain() == 0
    assert setup.gateway.received == []
    (message,) = await messages(setup.admin)
    assert message["status"] == "FAILED" and message["gateway"]["id"] == sandbox["id"], message
