"""The outbox: queued answers, retries with backoff, failover, the circuit breaker, expiry.

The dispatcher does not run in the background here: each test drains it explicitly, and moves
the injected clock to make retries due.
"""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from domain.delivery import ATTEMPTS_PER_GATEWAY, CIRCUIT_THRESHOLD
from tests.api.graphql_documents import CONFIGURE_SMS, CREATE_GATEWAY
from tests.api.otp_documents import START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.api.otp_support import PHONE, Gateway, result

ROOT = Path(__file__).resolve().parents[2]
MESSAGE = """query($id: ID!) { node(id: $id) { ... on SmsMessage {
  status errorDetail gateway { id } attempts { gateway { id } outcome detail } } } }"""


@pytest.fixture
async def queued(setup, app, httpserver):
    """The bench store sending through the outbox, with a backup gateway at /backup."""
    backup = Gateway()
    httpserver.expect_request("/backup").respond_with_handler(backup)
    gw = await setup.admin.ok(
        CREATE_GATEWAY,
        input={
            "name": "Backup",
            "type": "http",
            "url": httpserver.url_for("/backup"),
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    await setup.admin.ok(
        CONFIGURE_SMS,
        store=setup.store,
        input={"synchronousSending": False, "backupGatewayId": gw["id"]},
    )
    setup.backup, setup.backup_id = backup, gw["id"]
    setup.drain = app.state.dispatcher.drain
    return setup


async def message(s, sms_id: str) -> dict:
    return (await s.admin.data(MESSAGE, id=sms_id))["node"]


async def test_start_answers_queued_and_the_dispatcher_sends(queued):
    s = queued
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert challenge["sms"]["status"] == "QUEUED" and s.gateway.received == []
    assert await s.drain() == 1
    sent = await message(s, challenge["sms"]["id"])
    assert sent["status"] == "SENT" and [a["outcome"] for a in sent["attempts"]] == ["ACCEPTED"]
    done = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=s.gateway.last_code()
    )
    assert done["verifiedAt"]
    assert await s.drain() == 0  # sent once, never again


async def test_transient_failure_retries_with_backoff_then_succeeds(queued, frozen_clock):
    s = queued
    s.gateway.status = 503
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    await s.drain()
    pending = await message(s, challenge["sms"]["id"])
    assert pending["status"] == "SENDING" and "503" in pending["errorDetail"]
    assert await s.drain() == 0  # the retry is not due yet
    s.gateway.status = 200
    frozen_clock.advance(seconds=61)
    await s.drain()
    sent = await message(s, challenge["sms"]["id"])
    assert sent["status"] == "SENT"
    assert [a["outcome"] for a in sent["attempts"]] == ["UNAVAILABLE", "ACCEPTED"]
    assert s.backup.received == []


async def test_retries_spent_fail_over_to_the_backup_gateway(queued, frozen_clock):
    s = queued
    s.gateway.status = 503
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    for _ in range(ATTEMPTS_PER_GATEWAY + 1):
        await s.drain()
        frozen_clock.advance(seconds=61)
    sent = await message(s, challenge["sms"]["id"])
    assert sent["status"] == "SENT" and sent["gateway"]["id"] == s.backup_id
    outcomes = [(a["gateway"]["id"] == s.backup_id, a["outcome"]) for a in sent["attempts"]]
    assert outcomes == [(False, "UNAVAILABLE")] * ATTEMPTS_PER_GATEWAY + [(True, "ACCEPTED")]
    assert s.backup.received[0]["to"] == PHONE
    done = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=s.backup.last_code()
    )
    assert done["verifiedAt"]


async def test_refusal_fails_at_once_without_retry(queued, frozen_clock):
    s = queued
    s.gateway.status = 400
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    await s.drain()
    failed = await message(s, challenge["sms"]["id"])
    assert failed["status"] == "FAILED" and "400" in failed["errorDetail"]
    frozen_clock.advance(seconds=3600)
    assert await s.drain() == 0
    assert len((await message(s, challenge["sms"]["id"]))["attempts"]) == 1
    assert s.backup.received == []
    retry = await result(
        s.service,
        "mutation($c: ID!) { resendSmsCode(challengeId: $c) "
        "{ ... on Challenge { id } ... on UserError { code } } }",
        c=challenge["id"],
    )
    assert retry == {"id": challenge["id"]}  # a failed send may be retried without the cooldown


async def test_circuit_breaker_opens_on_repeated_failures_and_closes_on_success(
    queued, frozen_clock
):
    s = queued
    s.gateway.status = 503
    users = ["alice", "bob", "boss"]
    for user in users:
        await result(s.service, START_ENROLLMENT, store=s.store, user=user, phone=PHONE)
    await s.drain()
    frozen_clock.advance(seconds=61)
    await s.drain()  # 3 messages x 2 tries = 6 failures: the circuit opens for 30 s
    assert 3 * 2 >= CIRCUIT_THRESHOLD
    frozen_clock.advance(seconds=5)  # the third tries are due, the circuit is still open
    await s.drain()
    assert len(s.backup.received) == 3  # sent through the backup, skipping the open circuit
    from domain.models import AttemptOutcome, SmsAttempt

    assert await SmsAttempt.filter(outcome=AttemptOutcome.SKIPPED).count() == 3
    s.gateway.status = 200
    frozen_clock.advance(seconds=60)  # the open period is over: the next message tries again
    await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    await s.drain()
    assert any(r["to"] == PHONE for r in s.gateway.received)
    from domain.models import GatewayCircuit

    circuit = await GatewayCircuit.first()
    assert circuit.failures == 0 and circuit.open_until is None


async def test_code_expiring_before_delivery_marks_the_message_expired(queued, frozen_clock):
    s = queued
    s.gateway.status = 503
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    await s.drain()
    frozen_clock.advance(seconds=301)
    await s.drain()
    expired = await message(s, challenge["sms"]["id"])
    assert expired["status"] == "EXPIRED"
    assert s.backup.received == []


async def test_status_only_moves_forward(queued, app):
    from domain import delivery
    from domain.models import DeliveryStatus, SmsMessage

    s = queued
    await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    await s.drain()
    row = await SmsMessage.all().order_by("-id").first()
    runtime = app.state.runtime
    assert await delivery.advance(runtime, row, DeliveryStatus.DELIVERED) is True
    assert await delivery.advance(runtime, row, DeliveryStatus.SENT) is False
    assert await delivery.advance(runtime, row, DeliveryStatus.FAILED) is False
    assert (await SmsMessage.get(id=row.id)).status == DeliveryStatus.DELIVERED


async def wait_until(predicate, seconds: float = 10.0) -> None:
    """Bounded wait for work done by a background task or another process."""
    for _ in range(int(seconds / 0.02)):
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not done within {seconds} s")


async def test_background_dispatcher_sends_without_being_asked(queued, app):
    s = queued
    dispatcher, runtime = app.state.dispatcher, app.state.runtime
    runtime.on_queued = dispatcher.wake
    dispatcher.start()
    try:
        challenge = await result(
            s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE
        )

        async def sent() -> bool:
            return (await message(s, challenge["sms"]["id"]))["status"] == "SENT"

        await wait_until(sent)
    finally:
        await dispatcher.stop()
        runtime.on_queued = None
    assert len(s.gateway.received) == 1


async def test_a_separate_worker_process_sends_queued_messages(queued, settings, tmp_path):
    s = queued
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
    env.update(
        SMSAUTH_DATABASE_URL=settings.database_url,
        SMSAUTH_SECRET_KEY=settings.secret_key,
        PYTHONPATH=str(ROOT),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        async def sent() -> bool:
            return (await message(s, challenge["sms"]["id"]))["status"] == "SENT"

        await wait_until(sent, seconds=30)
    finally:
        worker.send_signal(signal.SIGTERM)
        _, errors = worker.communicate(timeout=20)
    assert worker.returncode == 0, errors
    assert [r["to"] for r in s.gateway.received] == [PHONE]
    assert PHONE not in errors.decode() and s.gateway.last_code() not in errors.decode()


async def test_status_changes_are_published_on_the_tenants_channel(queued, app, tenant):
    s = queued
    bus = app.state.runtime.bus
    async with bus.subscribe(f"sms:{tenant[0].id}") as events:
        challenge = await result(
            s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE
        )
        await s.drain()
        seen = [await asyncio.wait_for(anext(events), 10) for _ in range(2)]
    assert [e["status"] for e in seen] == ["SENDING", "SENT"]
    from api.ids import decode_int

    message_id = decode_int(challenge["sms"]["id"], "SmsMessage", "message")
    assert all(e["message_id"] == message_id for e in seen)


async def test_stopping_lets_a_send_in_flight_finish(queued, app, httpserver, stalled_handler):
    s = queued
    httpserver.clear()
    httpserver.expect_request("/slow").respond_with_handler(stalled_handler)
    from tests.api.graphql_documents import CREATE_GATEWAY as CREATE

    slow = await s.admin.ok(
        CREATE,
        input={
            "name": "Slow",
            "type": "http",
            "url": httpserver.url_for("/slow"),
            "parameters": {"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
        },
    )
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"gatewayId": slow["id"]})
    dispatcher = app.state.dispatcher
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    dispatcher.start()
    dispatcher.wake()
    assert await asyncio.to_thread(stalled_handler.arrived.wait, 10)
    stopping = asyncio.ensure_future(dispatcher.stop(grace_seconds=20))
    await asyncio.sleep(0)
    assert not stopping.done()  # it waits for the send in flight
    stalled_handler.release.set()
    await asyncio.wait_for(stopping, 20)
    sent = await message(s, challenge["sms"]["id"])
    assert sent["status"] == "SENT" and [a["outcome"] for a in sent["attempts"]] == ["ACCEPTED"]
