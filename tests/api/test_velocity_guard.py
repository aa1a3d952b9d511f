"""The velocity guard: a surge of a tenant's sends to one country holds that country, says why
in the audit trail, shows in ``smsCountryHolds`` and can be released by an admin."""

from datetime import datetime, timedelta

import pytest

from domain.models import CountryHold
from domain.velocity import HOLD_CACHE
from tests.api.graphql_documents import CONFIGURE_SMS, UPSERT_USER
from tests.api.otp_documents import START_ENROLLMENT
from tests.api.otp_support import result

UK = [f"+4477001234{i:02d}" for i in range(12)]
GERMAN = "+4915112345678"
HOLDS = "{ smsCountryHolds { callingCode heldUntil reason } }"
RELEASE = """
mutation($code: Int!) { releaseSmsCountryHold(callingCode: $code) {
  ... on SmsCountryHold { callingCode heldUntil }
  ... on UserError { code message field } } }"""
AUDIT = "{ auditEvents(first: 50) { edges { node { action outcome detail } } } }"


@pytest.fixture
async def s(setup, frozen_clock):
    """No cooldown; the guard holds a country past 4 sends in an hour with no history."""
    await setup.admin.ok(
        CONFIGURE_SMS,
        store=setup.store,
        input={"resendCooldownSeconds": 0, "velocityFactor": 3, "velocityMinimum": 4},
    )
    for index in range(8):
        await setup.admin.ok(
            UPSERT_USER, store=setup.store, input={"userId": f"u{index}", "roles": ["staff"]}
        )
    return setup


async def send(s, index: int, phone: str | None = None) -> dict:
    return await result(
        s.service, START_ENROLLMENT, store=s.store, user=f"u{index}", phone=phone or UK[index]
    )


async def test_a_surge_to_one_country_holds_it_and_the_audit_says_why(s, frozen_clock):
    for index in range(4):
        assert "id" in await send(s, index)
    held = await send(s, 4)
    assert held["code"] == "RATE_LIMITED" and held["scope"] == "COUNTRY", held
    assert "+44" in held["message"] and "on hold" in held["message"]
    until = datetime.fromisoformat(held["retryAt"])
    assert until == frozen_clock.now() + timedelta(hours=1)
    assert "id" in await send(s, 5, GERMAN)  # other countries are not held
    assert (await send(s, 6))["code"] == "RATE_LIMITED"  # the hold stays
    holds = (await s.admin.data(HOLDS))["smsCountryHolds"]
    assert [h["callingCode"] for h in holds] == [44]
    assert holds[0]["reason"].startswith("5 sends to +44 this hour, over 4")
    events = [e["node"] for e in (await s.admin.data(AUDIT))["auditEvents"]["edges"]]
    hold_events = [e for e in events if e["action"] == "SMS_COUNTRY_HOLD"]
    assert len(hold_events) == 1 and hold_events[0]["outcome"] == "HELD"
    assert hold_events[0]["detail"] == holds[0]["reason"]
    frozen_clock.advance(hours=1)
    assert "id" in await send(s, 7)  # the hold has ended
    assert (await s.admin.data(HOLDS))["smsCountryHolds"] == []


async def test_the_guard_measures_against_the_last_day(s, frozen_clock):
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"velocityFactor": 0})
    for hour in range(24):  # two sends an hour for a day (counted, guard off): an average of 2
        for index in range(2):
            assert "id" in await send(s, index), hour
        frozen_clock.advance(hours=1)
    await s.admin.ok(
        CONFIGURE_SMS, store=s.store, input={"velocityFactor": 3, "velocityMinimum": 1}
    )
    for index in range(6):  # up to 3 x 2 this hour is normal
        assert "id" in await send(s, index % 4, UK[index]), index
    assert (await send(s, 6))["code"] == "RATE_LIMITED"


async def test_an_admin_releases_a_hold_for_the_rest_of_the_hour(s, frozen_clock):
    for index in range(4):
        await send(s, index)
    assert (await send(s, 4))["code"] == "RATE_LIMITED"
    released = (await s.admin.data(RELEASE, code=44))["releaseSmsCountryHold"]
    assert released["callingCode"] == 44
    assert "id" in await send(s, 5)
    assert "id" in await send(s, 6)  # still a surge, but released this hour
    assert (await s.admin.data(HOLDS))["smsCountryHolds"] == []
    again = (await s.admin.data(RELEASE, code=44))["releaseSmsCountryHold"]
    assert again["code"] == "NOT_FOUND" and again["field"] == "callingCode"
    actions = [e["node"]["action"] for e in (await s.admin.data(AUDIT))["auditEvents"]["edges"]]
    assert "SMS_COUNTRY_RELEASE" in actions


async def test_holds_are_the_tenants_own(s, other_admin):
    for index in range(4):
        await send(s, index)
    await send(s, 4)
    assert (await other_admin.data(HOLDS))["smsCountryHolds"] == []
    answer = (await other_admin.data(RELEASE, code=44))["releaseSmsCountryHold"]
    assert answer["code"] == "NOT_FOUND"
    assert len((await s.admin.data(HOLDS))["smsCountryHolds"]) == 1


async def test_a_factor_of_zero_turns_the_guard_off(s):
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"velocityFactor": 0})
    for index in range(8):
        assert "id" in await send(s, index)


async def test_a_hold_set_by_another_instance_is_honoured_within_seconds(s, tenant, frozen_clock):
    assert "id" in await send(s, 0)  # this instance has read the tenant's holds
    tenant_id = tenant[0].id
    until = frozen_clock.now() + timedelta(hours=1)
    await CountryHold.create(  # what the guard of another instance writes
        tenant_id=tenant_id,
        calling_code=44,
        held_until=until,
        reason="elsewhere",
        created_at=frozen_clock.now(),
    )
    frozen_clock.advance(seconds=HOLD_CACHE.total_seconds())
    refused = await send(s, 1)
    assert refused["code"] == "RATE_LIMITED" and refused["scope"] == "COUNTRY"
    assert datetime.fromisoformat(refused["retryAt"]) == until
