"""HTTP and GraphQL hardening: introspection and GraphiQL switches, body size limit, CORS, and the
depth, alias and token limits of the schema (each refused before anything runs)."""

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from graphql.language import Lexer, Source, TokenKind

from tests.api.graphql_documents import CREATE_STORE
from tests.api.server_support import ROOT, Server
from tests.conftest import GraphQLClient, client_for

TOO_LARGE = {
    "errors": [{"message": "request body too large", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]
}
STORES = "{ identityStores { name } }"
SPA, STRANGER = "https://app.example.com", "https://evil.example.net"


async def store_names(http: httpx.AsyncClient, key: str) -> list[str]:
    data = await GraphQLClient(http, key).data(STORES)
    return [store["name"] for store in data["identityStores"]]


def create_store_body(name: str, padding: int = 0) -> bytes:
    """A valid createIdentityStore request, made longer by an ignored JSON member."""
    body = {"query": CREATE_STORE, "variables": {"name": name}, "padding": "x" * padding}
    return json.dumps(body).encode()


# Introspection and GraphiQL


async def test_introspection_is_on_by_default(anonymous):
    data = await anonymous.data("{ __schema { queryType { name } } }")
    assert data == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize(
    "query", ["{ __schema { types { name } } }", '{ __type(name: "Query") { name } }']
)
async def test_introspection_switched_off_is_a_validation_error(settings, query):
    async with client_for(settings, introspection=False) as http:
        body = await GraphQLClient(http, None).execute(query)
    assert body["data"] is None and body["errors"]
    for error in body["errors"]:
        assert "introspection has been disabled" in error["message"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_typename_still_answers_with_introspection_off(settings, tenant):
    async with client_for(settings, introspection=False) as http:
        data = await GraphQLClient(http, tenant[1]).data(
            "{ __typename viewer { __typename tenant { __typename name } } }"
        )
    assert data == {
        "__typename": "Query",
        "viewer": {"__typename": "Viewer", "tenant": {"__typename": "Tenant", "name": "Acme"}},
    }


async def graphiql_page(http: httpx.AsyncClient) -> httpx.Response:
    return await http.get("/graphql", headers={"Accept": "text/html"})


async def test_graphiql_is_served_when_on_with_introspection(http):
    page = await graphiql_page(http)
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_graphiql_is_not_served_without_introspection_and_says_why(settings, caplog):
    caplog.set_level(logging.WARNING, logger="smsauth.app")
    async with client_for(settings, introspection=False, graphiql=True) as http:
        page = await graphiql_page(http)
    assert page.status_code == 404 and "graphiql" not in page.text.lower()
    assert any("GraphiQL is off" in r.getMessage() for r in caplog.records)


async def test_graphiql_switched_off_is_not_served(settings):
    async with client_for(settings, graphiql=False) as http:
        page = await graphiql_page(http)
    assert page.status_code == 404 and "graphiql" not in page.text.lower()


# Body size limit


async def test_declared_body_over_the_limit_is_refused_and_nothing_runs(settings, tenant):
    headers = {"Authorization": f"Bearer {tenant[1]}", "Content-Type": "application/json"}
    async with client_for(settings, max_body_bytes=2048) as http:
        refused = await http.post(
            "/graphql", content=create_store_body("Big", 2048), headers=headers
        )
        assert refused.status_code == 413 and refused.json() == TOO_LARGE
        assert refused.headers["content-type"] == "application/json"
        accepted = await http.post("/graphql", content=create_store_body("Small"), headers=headers)
        assert accepted.status_code == 200 and "errors" not in accepted.json()
        assert await store_names(http, tenant[1]) == ["Small"]


async def chunks(body: bytes, size: int = 500) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_streamed_body_over_the_limit_is_refused_and_nothing_runs(settings, tenant):
    headers = {"Authorization": f"Bearer {tenant[1]}", "Content-Type": "application/json"}
    async with client_for(settings, max_body_bytes=2048) as http:
        big = http.build_request(
            "POST", "/graphql", content=chunks(create_store_body("Big", 4000)), headers=headers
        )
        assert "content-length" not in big.headers  # really streamed (chunked)
        refused = await http.send(big)
        assert refused.status_code == 413 and refused.json() == TOO_LARGE
        small = http.build_request(
            "POST", "/graphql", content=chunks(create_store_body("Small")), headers=headers
        )
        accepted = await http.send(small)
        assert accepted.status_code == 200 and "errors" not in accepted.json()
        assert await store_names(http, tenant[1]) == ["Small"]


async def test_body_limit_covers_receipt_webhooks(settings):
    gateway = f"/webhooks/sms/{uuid.uuid4()}"
    async with client_for(settings, max_body_bytes=1024) as http:
        assert (await http.post(gateway, content=b"status=ok")).status_code == 404
        refused = await http.post(gateway, content=b"status=" + b"x" * 1024)
    assert refused.status_code == 413 and refused.json() == TOO_LARGE


async def test_default_limit_accepts_ordinary_requests_and_refuses_a_megabyte(admin, http):
    await admin.ok(CREATE_STORE, name="Corp")
    refused = await http.post(
        "/graphql",
        content=create_store_body("Huge", 1024 * 1024),
        headers={"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"},
    )
    assert refused.status_code == 413
    assert [s["name"] for s in (await admin.data(STORES))["identityStores"]] == ["Corp"]


# CORS


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_without_configured_origins_there_are_no_cors_headers(http):
    answered = await http.options("/graphql", headers=preflight(SPA))
    posted = await http.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": SPA})
    assert posted.status_code == 200
    for response in (answered, posted):
        assert not [h for h in response.headers if h.startswith("access-control-")]


async def test_configured_origin_may_call_with_a_bearer_token_and_others_may_not(settings):
    async with client_for(settings, cors_origins=(SPA,)) as http:
        allowed = await http.options("/graphql", headers=preflight(SPA))
        stranger = await http.options("/graphql", headers=preflight(STRANGER))
        posted = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": SPA}
        )
        foreign = await http.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": STRANGER}
        )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == SPA
    methods = set(allowed.headers["access-control-allow-methods"].split(", "))
    assert {"GET", "POST", "OPTIONS"} <= methods
    allowed_headers = allowed.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert "x-request-id" in allowed_headers
    assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens, no cookies
    assert stranger.status_code == 400 and "access-control-allow-origin" not in stranger.headers
    assert posted.headers["access-control-allow-origin"] == SPA
    assert posted.headers["access-control-expose-headers"].lower() == "x-request-id"
    assert foreign.status_code == 200 and "access-control-allow-origin" not in foreign.headers


async def test_a_refused_large_body_still_tells_the_spa_why(settings):
    async with client_for(settings, cors_origins=(SPA,), max_body_bytes=1024) as http:
        refused = await http.post(
            "/graphql", content=create_store_body("Big", 2048), headers={"Origin": SPA}
        )
    assert refused.status_code == 413 and refused.json() == TOO_LARGE
    assert refused.headers["access-control-allow-origin"] == SPA


# Depth, alias and token limits (each document would create a store if it ran)


async def assert_refused_unrun(admin, document: str, message: str) -> None:
    body = await admin.execute(document)
    assert body["data"] is None, body
    assert any(message in e["message"] for e in body["errors"]), body["errors"]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert (await admin.data(STORES))["identityStores"] == []


async def test_a_query_deeper_than_12_is_refused(admin):
    # No valid path in the schema is that deep: the limit also bounds the validation work.
    nested = "{ a " * 13 + "}" * 13
    document = f'mutation {{ createIdentityStore(input: {{name: "Deep"}}) {nested} }}'
    await assert_refused_unrun(admin, document, "exceeds maximum operation depth of 12")


def aliased_creations(count: int) -> str:
    fields = " ".join(
        f's{i}: createIdentityStore(input: {{name: "S{i}"}}) {{ __typename }}' for i in range(count)
    )
    return f"mutation {{ {fields} }}"


async def test_31_aliases_are_refused_and_30_run(admin):
    await assert_refused_unrun(admin, aliased_creations(31), "31 aliases found. Allowed: 30")
    data = await admin.data(aliased_creations(30))
    assert len(data) == 30


def token_count(document: str) -> int:
    lexer, count = Lexer(Source(document)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def creation_of_tokens(tokens: int) -> str:
    # Fields padded with directives: a thousand bare siblings hit graphql-core's own merge budget.
    head = 'mutation { createIdentityStore(input: {name: "Tokens"}) { '
    padded = "__typename @include(if: true) @skip(if: false) "
    units, rest = divmod(tokens - token_count(head + "} }"), token_count(padded))
    document = head + padded * units + "__typename " * rest + "} }"
    assert token_count(document) == tokens
    return document


async def test_a_document_of_4001_tokens_is_refused_and_4000_run(admin):
    await assert_refused_unrun(admin, creation_of_tokens(4001), "more than 4000 tokens")
    data = await admin.data(creation_of_tokens(4000))
    assert data == {"createIdentityStore": {"__typename": "IdentityStore"}}


# A real server (uvicorn): the same limit over a socket, and for WebSocket messages


@pytest.fixture
async def limited_server(tmp_path) -> AsyncIterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SMSAUTH_DATABASE_URL="sqlite://./smsauth.db",
        SMSAUTH_MAX_BODY_BYTES="4096",
        SMSAUTH_DISPATCHER="false",
    )
    server = Server(env, tmp_path)
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


async def unfinished_post(port: int, framing: bytes, body: bytes) -> bytes:
    """A POST over a plain socket whose body never ends; what the server answers. Nothing is sent
    after ``body`` (more bytes arriving after the server closed would reset the connection)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        writer.write(head + framing + b"\r\n\r\n" + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)  # the server answers and closes
    finally:
        writer.close()


def chunked(size: int) -> bytes:
    sizes = [min(1000, size - start) for start in range(0, size, 1000)]
    return b"".join(b"%x\r\n%s\r\n" % (n, b"x" * n) for n in sizes)


def assert_too_large(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and json.loads(body) == TOO_LARGE


@pytest.mark.slow
async def test_real_server_refuses_large_bodies_and_websocket_messages(limited_server):
    url, port = limited_server.url, limited_server.port
    async with httpx.AsyncClient(timeout=10) as client:
        accepted = await client.post(f"{url}/graphql", json={"query": "{ __typename }"})
    assert accepted.json() == {"data": {"__typename": "Query"}}
    # Refused on the declared length alone, and as soon as a streamed body passes the limit.
    assert_too_large(await unfinished_post(port, b"Content-Length: 4097", b""))
    assert_too_large(await unfinished_post(port, b"Transfer-Encoding: chunked", chunked(4097)))
    ws_url = url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"x": "y" * 5000}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
