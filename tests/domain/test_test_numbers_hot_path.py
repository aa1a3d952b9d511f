"""What test phone numbers cost a normal start: no statement while the store has none or has them
switched off (the store row, read with the user in one SELECT, says so); one lookup otherwise.
And a test number's start touches no counter table and queues nothing for the dispatcher.

Statements are read from Tortoise's ``tortoise.db_client`` debug records, as
tests/domain/test_dispatcher_statements.py counts them (never printed: they hold bound values).
"""

import pytest

from domain import identity_stores, otp
from domain.auth import Principal
from domain.models import (
    DeliveryStatus,
    IdentityStore,
    RateCounter,
    Scope,
    SecurityRole,
    SmsGateway,
    SmsMessage,
    StoreUser,
)
from tests.api.otp_support import PHONE
from tests.domain.statement_log import statements

TEST_PHONE, FIXED = "+447700123499", "424242"


@pytest.fixture
async def store(tenant) -> IdentityStore:
    """A store sending through the outbox (an HTTP gateway no test reaches), a user who may use
    SMS, test numbers off."""
    gateway = await SmsGateway.create(
        tenant_id=tenant[0].id, name="Outbox only", type="http", url="http://127.0.0.1:9/sms"
    )
    row = await IdentityStore.create(
        tenant_id=tenant[0].id, name="Corp", sms_gateway=gateway, sms_enabled=True
    )
    role = await SecurityRole.create(identity_store=row, name="staff", sms_enabled=True)
    for name in ("alice", "bob", "carol"):
        user = await StoreUser.create(identity_store=row, user_id=name)
        await user.roles.add(role)
    return row


def service(store: IdentityStore) -> Principal:
    return Principal(tenant_id=store.tenant_id, scopes=frozenset({Scope.SERVICE}))


async def start(runtime, store, user: str, phone: str) -> list[str]:
    """The statements of one enrollment start."""
    with statements() as log:
        await otp.start_enrollment(service(store), runtime, store.id, user, phone)
    return log.statements


async def test_a_normal_start_never_looks_for_test_numbers_a_store_cannot_have(runtime, store):
    await start(runtime, store, "alice", PHONE)  # warms the country-hold cache
    baseline = await start(runtime, store, "bob", PHONE)
    await IdentityStore.filter(id=store.id).update(test_numbers_enabled=True)
    with statements() as log:
        await otp.start_enrollment(service(store), runtime, store.id, "carol", PHONE)
    assert log.touching("test_phone_number") == []
    assert len(log.statements) == len(baseline)


async def test_switched_off_test_numbers_cost_a_normal_start_nothing(runtime, store):
    await identity_stores.add_test_number(store.tenant_id, store.id, TEST_PHONE, FIXED)
    with statements() as log:
        await otp.start_enrollment(service(store), runtime, store.id, "alice", PHONE)
    assert log.touching("test_phone_number") == []


async def test_a_test_number_start_counts_nothing_and_queues_nothing(runtime, store):
    await identity_stores.add_test_number(store.tenant_id, store.id, TEST_PHONE, FIXED)
    await IdentityStore.filter(id=store.id).update(test_numbers_enabled=True)
    with statements() as log:
        challenge = await otp.start_enrollment(
            service(store), runtime, store.id, "alice", TEST_PHONE
        )
    assert log.touching("rate_counter") == [] and await RateCounter.all().count() == 0
    message = await SmsMessage.get(id=challenge.sms_id)
    assert message.test and message.status == DeliveryStatus.DELIVERED
    assert (
        message.gateway_id is None and message.payload is None and message.next_attempt_at is None
    )
    user = await otp.verify_enrollment(service(store), runtime, challenge.id, FIXED)
    assert user.phone_number == TEST_PHONE
