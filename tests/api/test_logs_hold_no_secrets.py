"""The log of a full run of a real ``smsauth serve`` at DEBUG, in JSON: every line is a JSON
object with time, level, logger and message; request lines carry their request ID; and no line
holds a password, secret parameter, API key, user token, webhook token, the secret key, a code
that was sent, or a full phone number."""

import json
import logging
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from werkzeug import Response

from domain import gateways
from domain.secret_box import generate_key
from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_API_KEY,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    GATEWAYS,
    SET_POLICY,
    TEST_GATEWAY,
    UPSERT_USER,
)
from tests.api.otp_documents import (
    CREATE_SESSION,
    DELIVERY_STATUS,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
)
from tests.api.server_support import ROOT, Server, cli
from tests.api.tenant_ws import Subscriber

PHONE = "+447079692712"
#: The number as E.164, its digits, and national forms with and without the trunk zero.
PHONE_FORMS = (PHONE, "447079692712", "07079692712", "7079692712")
GATEWAY_PASSWORD, SECRET_PARAMETER = "gw-pass-Zq81vX", "param-secret-Jk27wP"
TEST_GATEWAY_PASSWORD, TEST_TEXT_CODE = "test-gw-pass-Lm55tR", "482913"
REQUEST_ID = "test-123"
#: A secret's part is found even when a library cuts the secret short ("Author...XUmJirM").
FRAGMENT = 12
#: Request IDs and UUIDs, which may hold six digits in a row by chance.
RANDOM_IDS = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


@dataclass
class LocalGateway:
    """The http gateway's far end: keeps each form it received."""

    received: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: Any) -> Response:
        self.received.append(dict(request.form))
        return Response("OK")

    def last(self) -> dict[str, str]:
        return self.received[-1]

    def codes(self) -> list[str]:
        return [re.search(r"\d{6}", r["text"]).group() for r in self.received]


@dataclass
class Api:
    """GraphQL over HTTP to the server, with one key."""

    url: str
    key: str
    secrets: list[str] = field(default_factory=list)

    async def call(self, query: str, headers: dict | None = None, **variables: Any) -> Any:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.post(
                f"{self.url}/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {self.key}", **(headers or {})},
            )
        body = response.json()
        assert not body.get("errors"), body
        (value,) = body["data"].values()
        return value, response


@pytest.fixture
def server_env(tmp_path: Path, database_url: str, db: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(
        PYTHONPATH=str(ROOT),
        SMSAUTH_DATABASE_URL=(
            database_url if database_url.startswith("postgres") else "sqlite://./smsauth.db"
        ),
        SMSAUTH_SECRET_KEY=generate_key(),
        SMSAUTH_LOG_FORMAT="json",
        SMSAUTH_LOG_LEVEL="debug",
    )
    return env


async def build(api: Api, gateway_url: str) -> dict[str, str]:
    """An http gateway with a password and a secret parameter, a test gateway, a store, a role,
    a user and a SERVICE key; returns their IDs."""
    parameters = {
        "HTTP_METHOD": "POST",
        "PARAMETER": {"key": SECRET_PARAMETER},
        "OPTIONS": {"to": "{phone}", "text": "{otp}", "ref": "{reference}"},
        "RECEIPT_STATUS_FIELD": "status",
        "RECEIPT_REFERENCE_FIELD": "ref",
        "RECEIPT_DELIVERED_VALUES": "DELIVRD",
    }
    http_input = {"name": "Local", "type": "http", "url": gateway_url, "username": "u"}
    http_input.update(password=GATEWAY_PASSWORD, isDefault=True, parameters=parameters)
    gateway, _ = await api.call(CREATE_GATEWAY, input=http_input)
    test_input = {"name": "Try", "type": "test", "password": TEST_GATEWAY_PASSWORD}
    test_gateway, _ = await api.call(CREATE_GATEWAY, input=test_input)
    store, _ = await api.call(CREATE_STORE, name="Corp")
    sms = {"gatewayId": gateway["id"], "enabled": True, "textMessage": "Your code is [Code]"}
    sms.update(resendCooldownSeconds=0, synchronousSending=True)
    sms["rateLimits"] = [
        {"action": "SEND", "scope": "PHONE_NUMBER", "windowSeconds": 3600, "maximum": 2}
    ]
    await api.call(CONFIGURE_SMS, store=store["id"], input=sms)
    role, _ = await api.call(CREATE_ROLE, store=store["id"], name="staff")
    await api.call(SET_POLICY, role=role["id"], input={"smsEnabled": True})
    user = {"userId": "alice", "roles": ["staff"]}
    await api.call(UPSERT_USER, store=store["id"], input=user)
    service, _ = await api.call(CREATE_API_KEY, input={"scope": "SERVICE", "name": "app"})
    api.secrets.append(service["key"])
    receipts, _ = await api.call(
        "query($id: ID!) { smsGateway(id: $id) { receiptUrl } }", id=gateway["id"]
    )
    return {
        "gateway": gateway["id"],
        "test_gateway": test_gateway["id"],
        "store": store["id"],
        "service_key": service["key"],
        "receipt_url": receipts["receiptUrl"],
    }


async def user_flows(service: Api, store: str, gateway: LocalGateway) -> list[dict]:
    """Enroll (a wrong code first), authenticate, and be refused by the rate limit; the first
    request carries a request ID of the client's. Returns the challenges."""
    enrolling, response = await service.call(
        START_ENROLLMENT, {"X-Request-ID": REQUEST_ID}, store=store, user="alice", phone=PHONE
    )
    assert response.headers["x-request-id"] == REQUEST_ID
    code = gateway.codes()[-1]
    wrong = "000000" if code != "000000" else "111111"
    refused, _ = await service.call(VERIFY_ENROLLMENT, challenge=enrolling["id"], code=wrong)
    assert refused["code"] == "INVALID_CODE"
    enrolled, _ = await service.call(VERIFY_ENROLLMENT, challenge=enrolling["id"], code=code)
    assert enrolled["maskedPhoneNumber"], enrolled
    authenticating, _ = await service.call(START_AUTHENTICATION, store=store, user="alice")
    code = gateway.codes()[-1]
    verified, _ = await service.call(
        VERIFY_AUTHENTICATION, challenge=authenticating["id"], code=code
    )
    service.secrets.append(verified["assertion"])
    limited, _ = await service.call(START_AUTHENTICATION, store=store, user="alice")
    assert limited["code"] == "RATE_LIMITED", limited
    return [enrolling, authenticating]


async def side_calls(server: Server, api: Api, ids: dict[str, str], gateway: LocalGateway) -> None:
    """A receipt, a test message, a subscription over a user token, health, metrics, a GET with
    a phone number in its query string, and a request ID the server must not take."""
    async with httpx.AsyncClient(timeout=30) as client:
        first_ref = gateway.received[0]["ref"]
        receipt = await client.post(
            ids["receipt_url"], data={"status": "DELIVRD", "ref": first_ref}
        )
        assert receipt.status_code == 200, receipt.text
        assert (await client.get(f"{server.url}/readyz")).status_code == 200
        assert (await client.get(f"{server.url}/metrics")).status_code == 200
        query = {"query": "{ viewer { tenant { id } } }", "variables": json.dumps({"p": PHONE})}
        got = await client.get(
            f"{server.url}/graphql", params=query, headers={"Authorization": f"Bearer {api.key}"}
        )
        assert got.status_code == 200 and not got.json().get("errors"), got.text
        insane = await client.get(f"{server.url}/healthz", headers={"X-Request-ID": "a b\tc"})
        assert re.fullmatch(r"[0-9a-f]{32}", insane.headers["x-request-id"])
    sent, _ = await api.call(
        TEST_GATEWAY, id=ids["test_gateway"], phone=PHONE, text=f"code {TEST_TEXT_CODE}"
    )
    assert sent["status"] == "DELIVERED"


async def subscribe_as_user(server: Server, service: Api, store: str, challenge: str) -> str:
    session, _ = await service.call(CREATE_SESSION, store=store, user="alice")
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with Subscriber.connect(ws_url, session["token"]) as subscriber:
        await subscriber.subscribe("1", DELIVERY_STATUS, {"challengeId": challenge})
        frame = await subscriber.until("1")
        assert frame["payload"]["data"]["smsDeliveryStatus"]["status"], frame
    return session["token"]


def fragments(secret: str) -> set[str]:
    """The secret and every run of ``FRAGMENT`` characters of it."""
    runs = {secret[i : i + FRAGMENT] for i in range(len(secret) - FRAGMENT + 1)}
    return {secret, *runs}


def secret_part(credential: str) -> str:
    """What is secret in a credential: a token's secret after its ID (``sa_<id>_<secret>``), a
    JWT's signature; IDs and claims may be logged."""
    if credential.startswith(("sa_", "su_")):
        return credential.split("_", 2)[2]
    if credential.count(".") == 2:
        return credential.rsplit(".", 1)[1]
    return credential


def parsed(log: str) -> list[dict[str, Any]]:
    lines = [line for line in log.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
    return records


@pytest.mark.slow
async def test_a_full_run_logs_json_with_request_ids_and_no_secret(
    server_env, tmp_path, httpserver
):
    gateway = LocalGateway()
    httpserver.expect_request("/sms").respond_with_handler(gateway)
    created = json.loads(cli(server_env, tmp_path, "tenant", "create", "Logs Inc", "--json").stdout)
    server = Server(server_env, tmp_path, public=True)
    try:
        await server.wait_ready()
        admin = Api(server.url, created["apiKey"])
        ids = await build(admin, httpserver.url_for("/sms"))
        service = Api(server.url, ids["service_key"])
        challenges = await user_flows(service, ids["store"], gateway)
        await side_calls(server, admin, ids, gateway)
        token = await subscribe_as_user(server, service, ids["store"], challenges[1]["id"])
    finally:
        log = server.stop()
    records = parsed(log)

    webhook_token = ids["receipt_url"].split("token=", 1)[1]
    credentials = [GATEWAY_PASSWORD, SECRET_PARAMETER, TEST_GATEWAY_PASSWORD, created["apiKey"]]
    credentials += [*admin.secrets, *service.secrets, token, webhook_token]
    credentials += server_env["SMSAUTH_SECRET_KEY"].split(",")
    secrets = set(credentials).union(*(fragments(secret_part(c)) for c in credentials))
    codes = [*gateway.codes(), TEST_TEXT_CODE]
    assert len(gateway.codes()) == 2
    for line in log.splitlines():
        for secret in secrets:
            assert secret not in line, f"a secret in the log: {line}"
        for code in codes:
            assert not re.search(rf"(?<!\d){code}(?!\d)", RANDOM_IDS.sub("", line)), line
        for form in PHONE_FORMS:
            assert form not in line, f"a phone number in the log: {line}"

    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert len(access) > 10 and all(r.get("request_id") for r in access)
    tagged = [r for r in records if r.get("request_id") == REQUEST_ID]
    assert {r["logger"] for r in tagged} >= {"uvicorn.access", "smsauth.delivery"}, tagged
    assert any(r["logger"] == "uvicorn.error" for r in records)  # uvicorn's own lines are JSON


async def test_a_masked_error_is_logged_with_its_request_id(http, tenant, monkeypatch, caplog):
    """The bug is simulated by making one domain function raise (as in test_error_masking)."""

    async def explode(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(gateways, "list_gateways", explode)
    caplog.set_level(logging.ERROR)
    headers = {"Authorization": f"Bearer {tenant[1]}", "X-Request-ID": "req-42"}
    response = await http.post("/graphql", json={"query": GATEWAYS}, headers=headers)
    assert response.headers["x-request-id"] == "req-42"
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    (record,) = [r for r in caplog.records if error_id in r.getMessage()]
    assert record.request_id == "req-42" and record.error_id == error_id


def test_an_unknown_log_format_or_level_is_refused_at_start(server_env, tmp_path):
    for name, wrong in (("SMSAUTH_LOG_FORMAT", "xml"), ("SMSAUTH_LOG_LEVEL", "chatty")):
        refused = subprocess.run(
            [sys.executable, "-m", "api.cli", "serve", "--port", "9"],
            cwd=tmp_path,
            env={**server_env, name: wrong},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2 and name in refused.stderr, refused.stderr
