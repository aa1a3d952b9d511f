"""Smoke tests against a real ``smsauth serve`` (uvicorn) process and the real CLI."""

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from domain.secret_box import generate_key
from tests.api.graphql_documents import CREATE_GATEWAY, MESSAGES, TEST_GATEWAY, UPDATE_GATEWAY
from tests.api.server_support import ROOT, Server, cli, graphql


@pytest.fixture(params=["embedded", "shared"])
def server_env(request, tmp_path: Path, database_url: str) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env["PYTHONPATH"] = str(ROOT)
    if request.param == "embedded":  # the README's default: SQLite file and key file in cwd
        env["SMSAUTH_DATABASE_URL"] = "sqlite://./smsauth.db"
    elif database_url.startswith("postgres"):
        env["SMSAUTH_DATABASE_URL"] = database_url
        env["SMSAUTH_SECRET_KEY"] = generate_key()
    else:
        pytest.skip("the shared-database variant runs when SMSAUTH_TEST_DATABASE_URL is set")
    yield env


@pytest.mark.slow
async def test_newcomer_flow_on_a_real_server(server_env, tmp_path, db):
    created = json.loads(
        cli(server_env, tmp_path, "tenant", "create", "Smoke Inc", "--json").stdout
    )
    assert set(created) == {"tenantId", "apiKey"}
    key = created["apiKey"]
    server = Server(server_env, tmp_path)
    try:
        await server.wait_ready()
        async with httpx.AsyncClient() as client:
            page = await client.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        viewer = await graphql(server.url, key, "{ viewer { tenant { id name } } }")
        assert viewer["viewer"]["tenant"] == {"id": created["tenantId"], "name": "Smoke Inc"}
        gw = (
            await graphql(
                server.url,
                key,
                CREATE_GATEWAY,
                input={"name": "Try", "type": "test", "password": "smoke-secret-789"},
            )
        )["createSmsGateway"]
        sent = (
            await graphql(
                server.url, key, TEST_GATEWAY, id=gw["id"], phone="+447079692712", text="hello"
            )
        )["testSmsGateway"]
        assert sent["status"] == "DELIVERED"
        await websocket_checks(server.url, key)
        await legacy_subscription_check(server.url, key, sent["id"])
    finally:
        log = server.stop()
    for secret in (key, "smoke-secret-789", "+447079692712"):
        assert secret not in log

    restarted = Server(server_env, tmp_path)  # same key file or key: secrets still decrypt
    try:
        await restarted.wait_ready()
        kept = (
            await graphql(
                restarted.url,
                key,
                UPDATE_GATEWAY,
                id=gw["id"],
                input={"description": "after restart"},
            )
        )["updateSmsGateway"]
        assert kept["hasPassword"] is True and kept["description"] == "after restart"
        listed = await graphql(restarted.url, key, MESSAGES)
        assert [e["node"]["text"] for e in listed["smsMessages"]["edges"]] == ["hello"]
    finally:
        restarted.stop()
    if "SMSAUTH_SECRET_KEY" not in server_env:
        assert (tmp_path / "smsauth.key").stat().st_mode & 0o077 == 0


async def legacy_subscription_check(url: str, key: str, message_id: str) -> None:
    """The legacy graphql-ws protocol (subscriptions-transport-ws) still works for old clients."""
    ws_url = url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-ws"]) as ws:
        assert ws.subprotocol == "graphql-ws"
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        query = "subscription($m: ID!) { smsDeliveryStatus(messageId: $m) { status } }"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {"query": query, "variables": {"m": message_id}},
                }
            )
        )
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if frame["type"] != "ka":
                break
        assert frame["type"] == "data", frame
        assert frame["payload"]["data"]["smsDeliveryStatus"]["status"] == "DELIVERED"


async def websocket_checks(url: str, key: str) -> None:
    """graphql-transport-ws: the key travels in connection_init; a bad key is refused (4403)."""
    ws_url = url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        assert ws.subprotocol == "graphql-transport-ws"
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "a1b2",
                    "type": "subscribe",
                    "payload": {"query": "{ viewer { tenant { name } } }"},
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply["type"] == "next" and reply["id"] == "a1b2"
        assert reply["payload"]["data"]["viewer"]["tenant"]["name"] == "Smoke Inc"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer sa_bad_key"}}
            )
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 4403
