"""API keys that expire, and user session tokens that are revoked: over HTTP and at WebSocket
connect (the app's own ASGI WebSocket endpoint, driven in-process)."""

import asyncio
import json
from datetime import datetime, timedelta

import pytest

from tests.api.otp_documents import CREATE_SESSION, START_AUTHENTICATION
from tests.api.otp_support import result
from tests.conftest import GraphQLClient

CREATE_KEY = """
mutation($scope: ApiKeyScope!, $expires: DateTime) {
  createApiKey(input: { scope: $scope, name: "temporary", expiresAt: $expires }) {
    ... on ApiKeyCreated { id key scope expiresAt }
    ... on UserError { code message field }
  }
}"""
KEYS = "{ apiKeys { id name expiresAt } }"
REVOKE_SESSION = """mutation($id: ID) {
  revokeUserSession(id: $id) { ... on Deleted { id } ... on UserError { code message field } }
}"""
CREATE_SESSION_WITH_ID = CREATE_SESSION.replace("UserSession { token", "UserSession { id token")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def unauthenticated(body: dict) -> str:
    """The message of a request refused for its token."""
    assert body["data"] is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    return error["message"]


async def test_api_key_works_until_it_expires(admin, http, frozen_clock):
    expires = frozen_clock.now() + timedelta(hours=1)
    created = await admin.ok(CREATE_KEY, scope="SERVICE", expires=iso(expires))
    assert datetime.fromisoformat(created["expiresAt"]) == expires
    listed = {k["id"]: k for k in (await admin.data(KEYS))["apiKeys"]}
    assert datetime.fromisoformat(listed[created["id"]]["expiresAt"]) == expires
    initial = next(k for k in listed.values() if k["name"] == "initial admin key")
    assert initial["expiresAt"] is None  # 'smsauth tenant create' keys never expire
    temporary = GraphQLClient(http, created["key"])
    frozen_clock.advance(minutes=59, seconds=59)
    assert (await temporary.data("{ viewer { scopes } }"))["viewer"]["scopes"] == ["SERVICE"]
    frozen_clock.advance(seconds=1)
    message = unauthenticated(await temporary.execute("{ viewer { scopes } }"))
    assert "expired" in message
    frozen_clock.advance(days=3650)  # a key without expiry still works
    assert (await admin.data("{ viewer { scopes } }"))["viewer"]["scopes"]


@pytest.mark.parametrize(
    "offset",
    [timedelta(seconds=-1), timedelta(0), timedelta(days=2 * 365 + 1), "naive"],
    ids=["past", "now", "beyond-two-years", "no-time-zone"],
)
async def test_expiry_must_be_in_the_future_and_within_two_years(admin, frozen_clock, offset):
    now = frozen_clock.now()
    value = iso(now.replace(tzinfo=None) + timedelta(hours=1)) if offset == "naive" else None
    answer = (await admin.data(CREATE_KEY, scope="ADMIN", expires=value or iso(now + offset)))[
        "createApiKey"
    ]
    assert (answer["code"], answer["field"]) == ("VALIDATION", "expiresAt"), answer
    assert [k["name"] for k in (await admin.data(KEYS))["apiKeys"]] == ["initial admin key"]


async def test_expiry_up_to_two_years_ahead_is_accepted(admin, frozen_clock):
    expires = frozen_clock.now() + timedelta(days=2 * 365)
    created = await admin.ok(CREATE_KEY, scope="ADMIN", expires=iso(expires))
    assert datetime.fromisoformat(created["expiresAt"]) == expires


async def user_session(setup, user: str = "alice") -> tuple[str, GraphQLClient]:
    session = await result(setup.service, CREATE_SESSION_WITH_ID, store=setup.store, user=user)
    return session["id"], GraphQLClient(setup.service.http, session["token"])


async def can_run_user_flows(setup, client: GraphQLClient, user: str = "alice") -> bool:
    """True if the token is accepted (alice is not enrolled: the flow answers NOT_ENROLLED)."""
    body = await client.execute(START_AUTHENTICATION, store=setup.store, user=user)
    if body.get("errors"):
        unauthenticated(body)
        return False
    assert body["data"]["startSmsAuthentication"]["code"] == "NOT_ENROLLED"
    return True


async def test_revoked_user_token_is_unauthenticated_on_the_next_request(setup):
    session_id, user = await user_session(setup)
    assert await can_run_user_flows(setup, user)
    revoked = await setup.service.ok(REVOKE_SESSION, id=session_id)
    assert revoked == {"id": session_id}
    body = await user.execute(START_AUTHENTICATION, store=setup.store, user="alice")
    assert unauthenticated(body) == "the user token has been revoked"
    again = await setup.service.data(REVOKE_SESSION, id=session_id)
    assert again["revokeUserSession"]["code"] == "NOT_FOUND"


async def test_a_user_token_signs_itself_out_and_no_other(setup):
    mine_id, mine = await user_session(setup)
    other_id, other = await user_session(setup)
    refused = (await mine.data(REVOKE_SESSION, id=other_id))["revokeUserSession"]
    assert refused["code"] == "FORBIDDEN"
    assert await can_run_user_flows(setup, other)
    assert await mine.ok(REVOKE_SESSION) == {"id": mine_id}  # no ID: the caller's own session
    assert not await can_run_user_flows(setup, mine)
    assert await can_run_user_flows(setup, other)


async def test_another_tenants_session_is_not_found(setup, other_admin):
    session_id, user = await user_session(setup)
    answer = (await other_admin.data(REVOKE_SESSION, id=session_id))["revokeUserSession"]
    assert (answer["code"], answer["field"]) == ("NOT_FOUND", "id")
    missing_id = (await other_admin.data(REVOKE_SESSION))["revokeUserSession"]
    assert (missing_id["code"], missing_id["field"]) == ("VALIDATION", "id")
    assert await can_run_user_flows(setup, user)


async def ws_connection_init(app, token: str) -> dict:
    """Open a graphql-transport-ws connection on the app and send connection_init with the
    token; returns the app's answer (an ack message, or the close)."""
    inbox: asyncio.Queue = asyncio.Queue()
    outbox: asyncio.Queue = asyncio.Queue()
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"smsauth.test"),
            (b"sec-websocket-protocol", b"graphql-transport-ws"),
        ],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 50000),
        "server": ("smsauth.test", 80),
    }
    await inbox.put({"type": "websocket.connect"})
    session = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    try:
        accepted = await asyncio.wait_for(outbox.get(), 10)
        assert accepted["type"] == "websocket.accept", accepted
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await inbox.put({"type": "websocket.receive", "text": json.dumps(init)})
        return await asyncio.wait_for(outbox.get(), 10)
    finally:
        await inbox.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(session, 10)


async def test_revoked_user_token_is_refused_at_websocket_connect(setup, app):
    session_id, user = await user_session(setup)
    ack = await ws_connection_init(app, user.token)
    assert ack["type"] == "websocket.send" and json.loads(ack["text"])["type"] == "connection_ack"
    await setup.service.ok(REVOKE_SESSION, id=session_id)
    closed = await ws_connection_init(app, user.token)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403, closed


async def test_expired_api_key_is_refused_at_websocket_connect(admin, app, frozen_clock):
    expires = frozen_clock.now() + timedelta(minutes=5)
    created = await admin.ok(CREATE_KEY, scope="SERVICE", expires=iso(expires))
    ack = await ws_connection_init(app, created["key"])
    assert json.loads(ack["text"])["type"] == "connection_ack"
    frozen_clock.advance(minutes=5)
    closed = await ws_connection_init(app, created["key"])
    assert closed["type"] == "websocket.close" and closed["code"] == 4403, closed
