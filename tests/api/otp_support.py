"""The user-flow test bench: a local gateway that keeps what it received, and a store set up
the way the seeds describe (SMS enabled, a linked gateway, roles that enable or enforce SMS)."""

import re
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Response

from domain.models import Scope
from domain.tenants import create_api_key
from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    SET_POLICY,
    UPSERT_USER,
)
from tests.api.otp_documents import START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.conftest import GraphQLClient

PHONE, NEW_PHONE = "+447079692712", "+447700123456"


@dataclass
class Gateway:
    """The local gateway: what it received, and whether it is up."""

    received: list[dict[str, str]] = field(default_factory=list)
    status: int = 200

    def __call__(self, request: Any) -> Response:
        if self.status != 200:
            return Response("down", status=self.status)
        self.received.append(dict(request.form))
        return Response("OK")

    def last_code(self, to: str = PHONE) -> str:
        text = next(r["text"] for r in reversed(self.received) if r["to"] == to)
        return re.search(r"\d{6}", text).group()


@dataclass
class Setup:
    store: str
    gateway: Gateway
    service: GraphQLClient
    admin: GraphQLClient


async def build_setup(admin, http, tenant, httpserver) -> Setup:
    """Acme's store with users alice, bob (staff: SMS enabled), boss (admins: enforced), guest."""
    local = Gateway()
    httpserver.expect_request("/sms").respond_with_handler(local)
    gw = await admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Local",
            "type": "http",
            "url": httpserver.url_for("/sms"),
            "isDefault": True,
            "signature": "[Acme] ",
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    store = await admin.ok(CREATE_STORE, name="Corp")
    await admin.ok(
        CONFIGURE_SMS,
        store=store["id"],
        input={
            "gatewayId": gw["id"],
            "enabled": True,
            "textMessage": "Your Acme code is [Code]",
            "codeTtlSeconds": 300,
            "maxAttempts": 3,
            "resendCooldownSeconds": 30,
            "synchronousSending": True,
        },
    )
    for name, policy in [
        ("staff", {"smsEnabled": True}),
        ("admins", {"smsEnforced": True}),
        ("guests", {"smsEnabled": False}),
    ]:
        role = await admin.ok(CREATE_ROLE, store=store["id"], name=name)
        await admin.ok(SET_POLICY, role=role["id"], input=policy)
    for user, roles in [
        ("alice", ["staff"]),
        ("bob", ["staff"]),
        ("boss", ["admins"]),
        ("guest", ["guests"]),
    ]:
        await admin.ok(UPSERT_USER, store=store["id"], input={"userId": user, "roles": roles})
    _, key = await create_api_key(tenant[0].id, Scope.SERVICE, "app")
    return Setup(store["id"], local, GraphQLClient(http, key), admin)


async def result(client: GraphQLClient, document: str, **variables) -> dict:
    (value,) = (await client.data(document, **variables)).values()
    return value


async def enroll(s: Setup, user: str = "alice", phone: str = PHONE, client=None) -> dict:
    client = client or s.service
    challenge = await result(client, START_ENROLLMENT, store=s.store, user=user, phone=phone)
    assert "code" not in challenge, challenge
    return await result(
        client, VERIFY_ENROLLMENT, challenge=challenge["id"], code=s.gateway.last_code(phone)
    )
