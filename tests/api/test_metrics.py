"""Prometheus metrics at /metrics: what an operator's dashboard reads after real requests.

The registry is the process's own, shared by every test, so each test compares figures before
and after what it does.
"""

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.graphql_documents import CONFIGURE_SMS, CREATE_GATEWAY, TEST_GATEWAY
from tests.api.otp_documents import DELIVERY_STATUS, START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.api.otp_support import PHONE, result
from tests.api.server_support import ROOT, START_TIMEOUT, free_port
from tests.api.tenant_ws import Subscriber, served
from tests.conftest import client_for

WAIT = 10.0


async def scrape(http: httpx.AsyncClient) -> dict[tuple, float]:
    response = await http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(figures: dict[tuple, float], name: str, **labels: str) -> float:
    return figures.get((name, frozenset(labels.items())), 0.0)


def grew(before: dict, after: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def limit(action: str, scope: str, maximum: int) -> dict:
    return {"action": action, "scope": scope, "windowSeconds": 3600, "maximum": maximum}


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


async def test_an_enrollment_counts_its_message_send_and_verifications(setup, http):
    s = setup
    before = await scrape(http)
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    code = s.gateway.last_code()
    refused = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=wrong(code)
    )
    assert refused["code"] == "INVALID_CODE"
    await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    after = await scrape(http)

    verifications = "smsauth_otp_verifications_total"
    assert grew(before, after, verifications, purpose="ENROLLMENT", outcome="INVALID_CODE") == 1
    assert grew(before, after, verifications, purpose="ENROLLMENT", outcome="SUCCESS") == 1
    assert grew(before, after, "smsauth_messages_total", gateway_type="http", status="SENT") == 1
    sends = "smsauth_send_seconds_count"
    assert grew(before, after, sends, gateway_type="http", outcome="ACCEPTED") == 1


async def test_a_gateway_that_confirms_delivery_counts_delivered(admin, http):
    gateway = await admin.ok(CREATE_GATEWAY, input={"name": "Try", "type": "test"})
    before = await scrape(http)
    sent = await admin.ok(TEST_GATEWAY, id=gateway["id"], phone=PHONE, text="hello")
    assert sent["status"] == "DELIVERED"
    after = await scrape(http)
    delivered = {"gateway_type": "test", "status": "DELIVERED"}
    assert grew(before, after, "smsauth_messages_total", **delivered) == 1
    assert grew(before, after, "smsauth_messages_total", gateway_type="test", status="SENT") == 0


async def test_rate_limit_refusals_are_counted_with_their_scope(setup, http, frozen_clock):
    s = setup
    limits = [limit("SEND", "USER", 1), limit("VERIFY", "PHONE_NUMBER", 1)]
    await s.admin.ok(
        CONFIGURE_SMS, store=s.store, input={"resendCooldownSeconds": 0, "rateLimits": limits}
    )
    before = await scrape(http)
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    again = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert again["code"] == "RATE_LIMITED"
    code = wrong(s.gateway.last_code())
    await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    checked = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    assert checked["code"] == "RATE_LIMITED"
    after = await scrape(http)

    refusals = "smsauth_rate_limit_refusals_total"
    assert grew(before, after, refusals, action="SEND", scope="USER") == 1
    assert grew(before, after, refusals, action="VERIFY", scope="PHONE_NUMBER") == 1
    verifications = "smsauth_otp_verifications_total"
    assert grew(before, after, verifications, purpose="ENROLLMENT", outcome="RATE_LIMITED") == 1


async def test_graphql_latency_is_labelled_by_operation_name_and_type(admin, http):
    long_name = "Q" * 65
    before = await scrape(http)
    await admin.data("query ViewerTenant { viewer { tenant { id } } }")
    await admin.data("{ viewer { tenant { id } } }")
    await admin.data(f"query {long_name} {{ viewer {{ tenant {{ id }} }} }}")
    after = await scrape(http)

    count = "smsauth_graphql_seconds_count"
    assert grew(before, after, count, operation_name="ViewerTenant", operation_type="query") == 1
    assert grew(before, after, count, operation_name="anonymous", operation_type="query") == 1
    assert grew(before, after, count, operation_name="other", operation_type="query") == 1
    assert not any(long_name in str(key) for key in after)


async def test_an_open_subscription_shows_in_the_gauge_until_its_socket_closes(setup, app, http):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    before = value(await scrape(http), "smsauth_subscriptions")
    async with served(app) as url:
        async with Subscriber.connect(url, s.service.token) as subscriber:
            await subscriber.subscribe("1", DELIVERY_STATUS, {"messageId": challenge["sms"]["id"]})
            first = await subscriber.until("1")
            assert first["payload"]["data"]["smsDeliveryStatus"]["status"] == "SENT"
            assert value(await scrape(http), "smsauth_subscriptions") == before + 1
        # The client hung up without completing: the server must count the subscription down.
        deadline = time.monotonic() + WAIT
        while value(await scrape(http), "smsauth_subscriptions") != before:
            assert time.monotonic() < deadline, "the gauge did not come back down"
            await asyncio.sleep(0.05)


async def test_metrics_can_be_switched_off(settings):
    async with client_for(settings, metrics=False) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_workers_of_one_server_report_together_in_multiprocess_mode(tmp_path: Path):
    """``smsauth serve --workers 2`` with PROMETHEUS_MULTIPROC_DIR: any worker's /metrics has
    every worker's figures; a worker that stops takes its live gauge with it."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(PYTHONPATH=str(ROOT), PROMETHEUS_MULTIPROC_DIR=str(shared))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await until_both_workers_started(server, url, shared)
        calls = 20
        for _ in range(calls):  # a new connection each: the workers share the accepts
            async with httpx.AsyncClient(base_url=url) as client:
                answer = await client.post("/graphql", json={"query": "query Ping { __typename }"})
                assert answer.status_code == 200
        async with httpx.AsyncClient(base_url=url) as client:
            figures = await scrape(client)
        count = "smsauth_graphql_seconds_count"
        assert value(figures, count, operation_name="Ping", operation_type="query") == calls
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert not list(shared.glob("gauge_livesum_*.db"))


async def until_both_workers_started(server: subprocess.Popen, url: str, shared: Path) -> None:
    """Both workers created their live gauge files (when they load the metrics) and the server
    answers."""
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=url) as client:
        while True:
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the workers did not start"
            with contextlib.suppress(httpx.TransportError):
                up = (await client.get("/healthz")).status_code == 200
                if up and len(list(shared.glob("gauge_livesum_*.db"))) == 2:
                    return
            await asyncio.sleep(0.1)
