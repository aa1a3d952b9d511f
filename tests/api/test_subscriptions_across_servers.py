"""A subscriber on one server sees a message sent and receipted through another.

Two real ``smsauth serve`` processes share PostgreSQL; events cross between them through Redis
pub/sub, or through PostgreSQL LISTEN/NOTIFY when no Redis is configured. The subscriber is the
``websockets`` client speaking graphql-transport-ws.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from domain.secret_box import generate_key
from tests.api.graphql_documents import CREATE_GATEWAY, TEST_GATEWAY
from tests.api.server_support import ROOT, Server, cli, graphql

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "twilio-token-across"
SUBSCRIBE = """subscription($m: ID!) { smsDeliveryStatus(messageId: $m) {
  message { id status } status detail } }"""


def signature(url: str, params: dict[str, str]) -> str:
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@pytest.fixture(params=["redis", "postgres-notify"])
def shared_env(request, database_url, db):
    if not database_url.startswith("postgres"):
        pytest.skip("needs SMSAUTH_TEST_DATABASE_URL: two servers share a PostgreSQL database")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(
        PYTHONPATH=str(ROOT), SMSAUTH_DATABASE_URL=database_url, SMSAUTH_SECRET_KEY=generate_key()
    )
    if request.param == "redis":
        env["SMSAUTH_REDIS_URL"] = os.environ.get(
            "SMSAUTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"
        )
    return env


async def next_message(ws, seconds: float = 15.0) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), seconds))
        if frame["type"] in ("next", "error", "complete"):
            return frame


@pytest.mark.slow
async def test_delivered_event_reaches_a_subscriber_on_the_other_server(
    shared_env, tmp_path, httpserver
):
    key = json.loads(cli(shared_env, tmp_path, "tenant", "create", "Fan", "--json").stdout)[
        "apiKey"
    ]
    sender, watcher = Server(shared_env, tmp_path, public=True), Server(shared_env, tmp_path)
    try:
        await asyncio.gather(sender.wait_ready(), watcher.wait_ready())
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
        httpserver.expect_request(path, method="POST").respond_with_json(
            {"sid": "SM" + "2" * 32}, 201
        )
        gw = (
            await graphql(
                sender.url,
                key,
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
        )["createSmsGateway"]
        sms = (
            await graphql(
                sender.url, key, TEST_GATEWAY, id=gw["id"], phone="+447079692712", text="hi"
            )
        )["testSmsGateway"]
        ((request, _),) = httpserver.log
        callback = request.form["StatusCallback"]

        ws_url = watcher.url.replace("http", "ws") + "/graphql"
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}
                )
            )
            assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "s1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"m": sms["id"]}},
                    }
                )
            )
            first = await next_message(ws)
            assert first["payload"]["data"]["smsDeliveryStatus"]["status"] == "SENT"

            params = {
                "MessageSid": "SM" + "2" * 32,
                "MessageStatus": "delivered",
                "AccountSid": ACCOUNT_SID,
            }
            parts = urlsplit(callback)
            async with httpx.AsyncClient() as client:
                answer = await client.post(
                    f"{sender.url}{parts.path}?{parts.query}",
                    data=params,
                    headers={"X-Twilio-Signature": signature(callback, params)},
                )
            assert answer.status_code == 200, answer.text
            event = await next_message(ws)
            data = event["payload"]["data"]["smsDeliveryStatus"]
            assert data["status"] == "DELIVERED" and data["message"]["id"] == sms["id"]
    finally:
        sender.stop()
        watcher.stop()
