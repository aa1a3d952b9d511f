"""``smsauth worker`` processes against the test database: one killed mid-send, two racing.

The local gateway is an aiohttp server in the test's event loop. It counts a message as delivered
only when it answers 200 on a connection that is still open, so a send whose sender died meanwhile
is never counted. Every wait is bounded; worker output goes to files under the test's tmp_path.
"""

import asyncio
import contextlib
import inspect
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tortoise.transactions import in_transaction

from api.ids import decode_int
from domain.messaging import Outgoing, enqueue
from domain.models import (
    AttemptOutcome,
    DeliveryStatus,
    MessagePurpose,
    SmsAttempt,
    SmsGateway,
    SmsMessage,
)
from domain.runtime import Runtime
from tests.api.graphql_documents import CONFIGURE_SMS, GATEWAYS, UPDATE_GATEWAY
from tests.api.otp_documents import START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.api.otp_support import PHONE, result

ROOT = Path(__file__).resolve().parents[2]
RACE_MESSAGES = 1000


@dataclass
class Received:
    text: str
    arrived: datetime
    port: int  # the sender's end of the connection
    worker: int | None = None  # the worker process that holds that end, when asked


class RecordingGateway:
    """A local HTTP gateway (POST form with ``text``) that records what it received.

    With ``stall_first`` the first request is held until ``release`` and then answered 503: the
    send a worker is killed during. With ``worker_pids`` set, each request is traced to the worker
    that sent it, and answers are held (at most 5 s) until every worker has sent one, so the
    workers really overlap.
    """

    def __init__(self) -> None:
        self.url = ""
        self.requests: list[Received] = []
        self.delivered: Counter[str] = Counter()
        self.stall_first = False
        self.stalled, self.release = asyncio.Event(), asyncio.Event()
        self.stalled_request: web.Request | None = None
        self.worker_pids: set[int] = set()
        self.all_workers_seen = asyncio.Event()
        self._owners: dict[int, int | None] = {}
        self._port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/sms", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{self._port}/sms"

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def stalled_connection_dropped(self) -> bool:
        return self.stalled_request is not None and self.stalled_request.transport is None

    async def handle(self, request: web.Request) -> web.Response:
        text = str((await request.post())["text"])
        port = request.transport.get_extra_info("peername")[1]
        received = Received(text, datetime.now(UTC), port)
        self.requests.append(received)
        if self.stall_first and len(self.requests) == 1:
            self.stalled_request = request
            self.stalled.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), 30)
            return web.Response(status=503, text="the gateway is overloaded")
        if self.worker_pids:
            if port not in self._owners:
                self._owners[port] = connection_owner(port, self._port, self.worker_pids)
            received.worker = self._owners[port]
            if self.worker_pids <= set(self._owners.values()):
                self.all_workers_seen.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.all_workers_seen.wait(), 5)
        if request.transport is None or request.transport.is_closing():
            return web.Response(status=503, text="nobody is listening")
        self.delivered[text] += 1
        return web.Response(text="OK")


def connection_owner(client_port: int, server_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the client end of the local TCP connection from ``client_port``
    to ``server_port`` (Linux: the socket's inode in /proc/net/tcp*, then /proc/PID/fd)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                cols = row.split()
                local, remote = (int(addr.rsplit(":", 1)[1], 16) for addr in cols[1:3])
                if (local, remote) == (client_port, server_port):
                    inodes.add(f"socket:[{cols[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


@pytest.fixture
async def gateway() -> AsyncIterator[RecordingGateway]:
    local = RecordingGateway()
    await local.start()
    yield local
    await local.stop()


@pytest.fixture
def spawn_worker(settings: Any, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts ``python -m api.cli worker`` on the test database with the test's secret key;
    whatever is still running at the end is killed."""
    started: list[tuple[subprocess.Popen, Any]] = []

    def spawn(**extra_env: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMSAUTH_")}
        env.update(
            SMSAUTH_DATABASE_URL=settings.database_url,
            SMSAUTH_SECRET_KEY=settings.secret_key,
            PYTHONPATH=str(ROOT),
            **extra_env,
        )
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        started.append((worker, log))
        return worker

    yield spawn
    for worker, log in started:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        log.close()


async def wait_until(predicate: Callable[[], Any], seconds: float, what: str) -> None:
    """Poll ``predicate`` (sync or async) until true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s: {what}")
        await asyncio.sleep(0.05)


async def stop(worker: subprocess.Popen) -> int:
    """SIGTERM, then wait (without blocking the loop the gateway runs in) for a clean exit."""
    worker.send_signal(signal.SIGTERM)
    return await asyncio.to_thread(worker.wait, 20)


async def test_a_worker_killed_mid_send_leaves_the_message_to_another_that_sends_it_once(
    setup, gateway, spawn_worker, tmp_path
):
    s = setup
    gateway.stall_first = True
    (local,) = [g for g in (await s.admin.data(GATEWAYS))["smsGateways"] if g["name"] == "Local"]
    await s.admin.ok(
        UPDATE_GATEWAY, id=local["id"], input={"url": gateway.url, "timeoutSeconds": 2}
    )
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"synchronousSending": False})
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert challenge["sms"]["status"] == "QUEUED"
    message_id = decode_int(challenge["sms"]["id"], "SmsMessage", "message")

    # The first worker claims the message (lease: 2 s timeout + 1 s margin) and sends it; the
    # gateway holds the request, and the worker is killed while it waits for the answer.
    first = spawn_worker(SMSAUTH_LEASE_MARGIN_SECONDS="1")
    await wait_until(gateway.stalled.is_set, 30, "the first worker's request reached the gateway")
    first.send_signal(signal.SIGKILL)
    await wait_until(lambda: first.poll() is not None, 10, "the first worker died")
    assert first.returncode == -signal.SIGKILL
    await wait_until(
        lambda: gateway.stalled_connection_dropped, 10, "the gateway saw the connection drop"
    )
    orphan = await SmsMessage.get(id=message_id)
    assert orphan.status == DeliveryStatus.SENDING and orphan.lease_until is not None
    # An attempt is recorded only once the gateway has answered: the killed worker left none.
    assert await SmsAttempt.filter(message_id=message_id).count() == 0

    # A second worker takes the message over once the lease has run out; the stalled request is
    # answered now, into the dead connection (503, and not a delivery either way).
    second = spawn_worker(SMSAUTH_LEASE_MARGIN_SECONDS="1")
    gateway.release.set()

    async def settled() -> bool:
        return (await SmsMessage.get(id=message_id)).status != DeliveryStatus.SENDING

    await wait_until(settled, 30, "the second worker settled the message")
    assert await stop(second) == 0

    sent = await SmsMessage.get(id=message_id)
    assert sent.status == DeliveryStatus.SENT and sent.lease_until is None and sent.payload is None
    attempts = await SmsAttempt.filter(message_id=message_id).values_list("outcome", flat=True)
    assert attempts == [AttemptOutcome.ACCEPTED]  # the second worker's only; see above
    stalled, retried = gateway.requests
    assert retried.arrived > orphan.lease_until  # not taken over before the lease ran out
    assert stalled.text == retried.text
    assert gateway.delivered == Counter({retried.text: 1})
    assert s.gateway.received == []  # the bench's own gateway is not in use here
    code = retried.text[-6:]
    done = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    assert done["verifiedAt"]
    logs = (tmp_path / "worker-1.log").read_text()
    assert "Traceback" not in logs and PHONE not in logs and code not in logs


async def test_two_workers_racing_over_a_thousand_queued_messages_send_each_once(
    is_postgres, settings, tenant, gateway, spawn_worker, tmp_path
):
    if not is_postgres:
        pytest.skip(
            "claims race on PostgreSQL only (FOR UPDATE SKIP LOCKED); set it up with "
            "SMSAUTH_TEST_DATABASE_URL"
        )
    runtime = Runtime.from_settings(settings)
    row = await SmsGateway.create(
        tenant_id=tenant[0].id,
        name="Local",
        type="http",
        url=gateway.url,
        timeout_seconds=30,  # a busy machine must not turn a slow answer into a retry
        parameters={"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
    )
    texts: dict[int, str] = {}
    async with in_transaction():
        for n in range(RACE_MESSAGES):
            body = f"race message {n:04d}"
            outgoing = Outgoing(tenant[0].id, row, PHONE, body, MessagePurpose.TEST)
            texts[(await enqueue(outgoing, runtime)).id] = body

    workers = [spawn_worker(), spawn_worker()]
    gateway.worker_pids = {w.pid for w in workers}  # before any request: no await in between

    async def none_pending() -> bool:
        pending = [DeliveryStatus.QUEUED, DeliveryStatus.SENDING]
        return not await SmsMessage.filter(status__in=pending).exists()

    await wait_until(none_pending, 120, "the workers sent every message")
    assert [await stop(w) for w in workers] == [0, 0]

    statuses = Counter(await SmsMessage.all().values_list("status", flat=True))
    assert statuses == {DeliveryStatus.SENT: RACE_MESSAGES}
    doubled = sorted(text for text, times in gateway.delivered.items() if times > 1)
    assert not doubled, f"{len(doubled)} sent more than once, e.g. {doubled[:3]}"
    assert gateway.delivered == Counter(texts.values())  # each text once, nothing else
    assert len(gateway.requests) == RACE_MESSAGES  # and no failed tries either
    attempts = await SmsAttempt.all().values_list("message_id", "outcome")
    assert Counter(m for m, _ in attempts) == Counter(texts.keys())  # one attempt per message
    assert {outcome for _, outcome in attempts} == {AttemptOutcome.ACCEPTED}
    by_worker = Counter(r.worker for r in gateway.requests)
    assert set(by_worker) == gateway.worker_pids, by_worker  # both took part, nobody unknown
    for n in range(2):
        assert "Traceback" not in (tmp_path / f"worker-{n}.log").read_text()
