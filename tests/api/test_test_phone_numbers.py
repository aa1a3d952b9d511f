"""Test phone numbers through GraphQL: a number mapped to a fixed code sends nothing through the
local gateway of the flow tests, counts against no limit, takes its fixed code (attempts and
expiry still apply), shows as ``test`` in smsMessages and the audit trail, and is a normal number
again once the store switches its test numbers off or the number is removed."""

import pytest

from domain.models import RateCounter
from tests.api.graphql_documents import (
    ADD_TEST_NUMBER,
    CONFIGURE_SMS,
    CREATE_STORE,
    REMOVE_TEST_NUMBER,
)
from tests.api.otp_documents import (
    CHALLENGE,
    RESEND,
    SEND,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
    errors,
)
from tests.api.otp_support import NEW_PHONE, PHONE, enroll, result

TEST_PHONE, FIXED = "+447700123499", "424242"

TEST_NUMBERS = """
query($id: ID!) { identityStore(id: $id) {
  testPhoneNumbers { id phoneNumber createdAt }
  smsAuthentication { testNumbersEnabled }
} }"""

MESSAGES_TEST = """
{ smsMessages(first: 50) { edges { node { to status test text gateway { id } } } } }"""

AUDIT_TEST = """
{ auditEvents(first: 50) { edges { node { action outcome maskedPhoneNumber test } } } }"""

START_WITH_SMS = f"""
mutation($store: ID!, $user: String!, $phone: String) {{
  startSmsEnrollment(input: {{ identityStoreId: $store, userId: $user, phoneNumber: $phone }}) {{
    {CHALLENGE} {errors(*SEND, "InvalidPhoneNumberError")}
  }}
}}"""


@pytest.fixture
async def s(setup):
    """The OTP bench with the test number +447700123499 -> 424242, test numbers on, and a limit
    of two codes per number an hour."""
    await setup.admin.ok(
        CONFIGURE_SMS,
        store=setup.store,
        input={
            "testNumbersEnabled": True,
            "rateLimits": [
                {"action": "SEND", "scope": "PHONE_NUMBER", "windowSeconds": 3600, "maximum": 2},
                {"action": "VERIFY", "scope": "PHONE_NUMBER", "windowSeconds": 3600, "maximum": 2},
            ],
        },
    )
    await setup.admin.ok(ADD_TEST_NUMBER, store=setup.store, phone=TEST_PHONE, code=FIXED)
    return setup


async def start(s, user: str = "alice", phone: str = TEST_PHONE) -> dict:
    return await result(s.service, START_ENROLLMENT, store=s.store, user=user, phone=phone)


async def verify(s, challenge: dict, code: str) -> dict:
    return await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)


async def test_admins_list_test_numbers_without_their_codes_and_switch_them(s):
    shown = (await s.admin.data(TEST_NUMBERS, id=s.store))["identityStore"]
    assert [n["phoneNumber"] for n in shown["testPhoneNumbers"]] == [TEST_PHONE]
    assert shown["smsAuthentication"]["testNumbersEnabled"] is True
    assert FIXED not in str(shown)


async def test_a_new_store_has_test_numbers_off(admin):
    store = await admin.ok(CREATE_STORE, name="Fresh")
    shown = (await admin.data(TEST_NUMBERS, id=store["id"]))["identityStore"]
    assert shown["smsAuthentication"]["testNumbersEnabled"] is False
    assert shown["testPhoneNumbers"] == []


@pytest.mark.parametrize(
    ("phone", "code", "typename", "field"),
    [
        (TEST_PHONE, "4242", "ValidationError", "input.code"),  # not the store's code length
        (TEST_PHONE, "42424x", "ValidationError", "input.code"),
        ("+44 20 7946 0000", FIXED, "InvalidPhoneNumberError", "phoneNumber"),  # a landline
        ("not a number", FIXED, "InvalidPhoneNumberError", "phoneNumber"),
    ],
)
async def test_bad_test_numbers_are_refused(s, phone, code, typename, field):
    answer = await result(s.admin, ADD_TEST_NUMBER, store=s.store, phone=phone, code=code)
    assert answer["__typename"] == typename and answer["field"] == field, answer


async def test_service_keys_cannot_manage_test_numbers(s):
    answer = await result(s.service, ADD_TEST_NUMBER, store=s.store, phone=NEW_PHONE, code=FIXED)
    assert answer["code"] == "FORBIDDEN", answer


async def test_a_test_number_sends_nothing_counts_nothing_and_takes_its_fixed_code(s):
    challenges = [await start(s) for _ in range(4)]  # twice the per-number limit
    assert all("id" in c for c in challenges), challenges
    assert all(c["sms"]["status"] == "DELIVERED" for c in challenges)
    resent = await result(s.service, RESEND, challenge=challenges[-1]["id"])
    assert "id" in resent and resent["sms"]["status"] == "DELIVERED", resent
    assert s.gateway.received == []
    assert await RateCounter.all().count() == 0
    enrolled = await verify(s, challenges[-1], FIXED)
    assert enrolled["maskedPhoneNumber"].endswith("3499"), enrolled
    # Authentication with the enrolled test number: the same fixed code, still no SMS.
    auth = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert auth["sms"]["status"] == "DELIVERED", auth
    done = await result(s.service, VERIFY_AUTHENTICATION, challenge=auth["id"], code=FIXED)
    assert "assertion" in done, done
    assert s.gateway.received == [] and await RateCounter.all().count() == 0


async def test_a_wrong_code_costs_an_attempt_and_the_attempts_run_out(s):
    challenge = await start(s)
    for left in (2, 1):
        answer = await verify(s, challenge, "000000")
        assert answer["code"] == "INVALID_CODE" and answer["attemptsLeft"] == left, answer
    assert (await verify(s, challenge, "000000"))["code"] == "TOO_MANY_ATTEMPTS"
    assert (await verify(s, challenge, FIXED))["code"] == "TOO_MANY_ATTEMPTS"


async def test_the_fixed_code_expires_with_the_challenge(s, frozen_clock):
    challenge = await start(s)
    frozen_clock.advance(seconds=301)
    assert (await verify(s, challenge, FIXED))["code"] == "CODE_EXPIRED"


async def test_messages_and_audit_events_of_a_test_number_say_test(s):
    await start(s)
    await enroll(s, "bob", NEW_PHONE)  # a normal number, for contrast
    edges = (await s.admin.data(MESSAGES_TEST))["smsMessages"]["edges"]
    by_test = {e["node"]["test"]: e["node"] for e in edges}
    assert by_test[True]["status"] == "DELIVERED" and by_test[True]["gateway"] is None
    assert by_test[True]["text"] is None and by_test[True]["to"].endswith("3499")
    assert by_test[False]["to"].endswith(NEW_PHONE[-4:])
    events = [e["node"] for e in (await s.admin.data(AUDIT_TEST))["auditEvents"]["edges"]]
    tested = {(e["action"], e["test"]) for e in events}
    assert ("SMS_ENROLLMENT_START", True) in tested
    assert ("SMS_ENROLLMENT_START", False) in tested
    assert all(e["test"] == e["maskedPhoneNumber"].endswith("3499") for e in events)


async def test_switched_off_test_numbers_are_normal_numbers(s):
    pending = await start(s)
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"testNumbersEnabled": False})
    assert (await verify(s, pending, FIXED))["code"] == "CODE_EXPIRED"  # it stopped working
    challenge = await start(s)
    assert challenge["sms"]["status"] == "SENT", challenge
    assert [r["to"] for r in s.gateway.received] == [TEST_PHONE]
    assert await RateCounter.all().count() > 0
    assert (await verify(s, challenge, FIXED))["code"] == "INVALID_CODE"
    assert "maskedPhoneNumber" in await verify(s, challenge, s.gateway.last_code(TEST_PHONE))


async def test_a_removed_test_number_is_a_normal_number(s):
    pending = await start(s)
    removed = await result(s.admin, REMOVE_TEST_NUMBER, store=s.store, phone=TEST_PHONE)
    assert "code" not in removed and removed["id"], removed
    assert (await s.admin.data(TEST_NUMBERS, id=s.store))["identityStore"]["testPhoneNumbers"] == []
    assert (await verify(s, pending, FIXED))["code"] == "CODE_EXPIRED"
    assert (await start(s))["sms"]["status"] == "SENT"
    assert len(s.gateway.received) == 1
    again = await result(s.admin, REMOVE_TEST_NUMBER, store=s.store, phone=TEST_PHONE)
    assert again["code"] == "NOT_FOUND", again


async def test_adding_a_number_again_replaces_its_code(s):
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"defaultRegion": "GB"})
    await s.admin.ok(ADD_TEST_NUMBER, store=s.store, phone="07700 123499", code="135790")
    shown = (await s.admin.data(TEST_NUMBERS, id=s.store))["identityStore"]
    assert len(shown["testPhoneNumbers"]) == 1
    challenge = await start(s)
    assert (await verify(s, challenge, FIXED))["code"] == "INVALID_CODE"
    assert "maskedPhoneNumber" in await verify(s, challenge, "135790")


async def test_other_numbers_of_a_store_with_test_numbers_are_sent_and_counted(s):
    challenge = await start(s, phone=PHONE)
    assert challenge["sms"]["status"] == "SENT", challenge
    assert [r["to"] for r in s.gateway.received] == [PHONE]
    assert await RateCounter.all().count() > 0
