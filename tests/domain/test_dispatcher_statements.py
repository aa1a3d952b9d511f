"""What the dispatcher costs the database, and that its circuit breaker still guards a gateway.

A batch to one gateway is claimed, looked up and leased with a few statements per round; each
message then costs its attempt row and its status move. The statements are counted the way
``bench/sql_statements.py`` counts them: Tortoise's ``tortoise.db_client`` debug records (counted,
never printed: they hold bound values). The dispatcher is stepped with ``drain()`` and a frozen
clock; the gateway is a local HTTP server that is up or down.
"""

import pytest

from domain.delivery import CIRCUIT_OPEN_SECONDS, CIRCUIT_THRESHOLD
from domain.dispatcher import Dispatcher
from domain.messaging import Outgoing, enqueue
from domain.models import (
    AttemptOutcome,
    DeliveryStatus,
    GatewayCircuit,
    MessagePurpose,
    SmsAttempt,
    SmsGateway,
    SmsMessage,
)
from domain.runtime import Runtime
from tests.api.otp_support import PHONE, Gateway
from tests.domain.statement_log import statements

BATCH = 10
#: Per round: the claim's SELECT, its gateways-and-circuits SELECT, one lease UPDATE per gateway,
#: the overdue sweep; then the empty round that ends a drain.
PER_DRAIN = 5
#: Per message: the attempt's INSERT and the status UPDATE.
PER_MESSAGE = 2


@pytest.fixture
async def local(tenant, httpserver) -> tuple[Gateway, SmsGateway]:
    """A local HTTP gateway (up until told otherwise) and its row."""
    handler = Gateway()
    httpserver.expect_request("/sms").respond_with_handler(handler)
    row = await SmsGateway.create(
        tenant_id=tenant[0].id,
        name="Local",
        type="http",
        url=httpserver.url_for("/sms"),
        parameters={"HTTP_METHOD": "POST", "OPTIONS": {"to": "{phone}", "text": "{otp}"}},
    )
    return handler, row


async def queue(runtime: Runtime, gateway: SmsGateway, count: int) -> list[int]:
    ids = []
    for n in range(count):
        outgoing = Outgoing(gateway.tenant_id, gateway, PHONE, f"message {n}", MessagePurpose.TEST)
        ids.append((await enqueue(outgoing, runtime)).id)
    return ids


async def statuses(ids: list[int]) -> set[DeliveryStatus]:
    return set(await SmsMessage.filter(id__in=ids).values_list("status", flat=True))


async def circuit() -> tuple[int, bool]:
    """The gateway's consecutive failures, and whether its circuit is open."""
    row = await GatewayCircuit.first()
    return (row.failures, row.open_until is not None) if row else (0, False)


async def test_a_batch_costs_a_few_statements_per_round_and_two_per_message(
    runtime, local, frozen_clock
):
    handler, gateway = local
    dispatcher = Dispatcher(runtime, batch=BATCH)
    await queue(runtime, gateway, 1)
    await dispatcher.drain()  # the first message also reads the gateway's type for the metrics
    ids = await queue(runtime, gateway, BATCH)
    frozen_clock.advance(seconds=1)  # and a sweep for overdue messages is due again
    with statements() as log:
        assert await dispatcher.drain() == BATCH
    assert await statuses(ids) == {DeliveryStatus.SENT}
    assert len(handler.received) == 1 + BATCH
    assert len(log.statements) <= PER_DRAIN + PER_MESSAGE * BATCH


async def test_failures_open_the_circuit_and_a_success_closes_it(
    runtime, local, httpserver, frozen_clock
):
    handler, gateway = local
    dispatcher = Dispatcher(runtime)
    handler.status = 503
    failing = await queue(runtime, gateway, 2)
    await dispatcher.drain()
    assert await circuit() == (2, False)
    handler.status = 200
    frozen_clock.advance(seconds=61)  # the retries are due
    await dispatcher.drain()
    assert await statuses(failing) == {DeliveryStatus.SENT}
    assert await circuit() == (0, False)  # a success ends the run of failures

    handler.status = 503
    failing = await queue(runtime, gateway, CIRCUIT_THRESHOLD)
    await dispatcher.drain()
    assert await circuit() == (CIRCUIT_THRESHOLD, True)
    tried = len(httpserver.log)
    frozen_clock.advance(seconds=5)  # the retries are due, the circuit is still open
    await dispatcher.drain()
    assert len(httpserver.log) == tried  # the gateway was left alone
    skipped = SmsAttempt.filter(message_id__in=failing, outcome=AttemptOutcome.SKIPPED)
    assert await skipped.count() == CIRCUIT_THRESHOLD
    handler.status = 200
    frozen_clock.advance(seconds=CIRCUIT_OPEN_SECONDS)  # the open period is over
    await dispatcher.drain()
    assert await statuses(failing) == {DeliveryStatus.SENT}
    assert await circuit() == (0, False)
