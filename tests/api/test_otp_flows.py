"""SMS enrollment and authentication end to end, through GraphQL and a real local gateway.

The gateway is pytest-httpserver: each test reads the code from the request it received.
"""

import re

import jwt
import pytest

from tests.api.graphql_documents import CONFIGURE_SMS, REQUIREMENTS
from tests.api.otp_documents import (
    AUDIT,
    CREATE_SESSION,
    REMOVE_ENROLLMENT,
    RESEND,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
)
from tests.api.otp_support import NEW_PHONE, PHONE, enroll, result
from tests.conftest import GraphQLClient


async def test_enrollment_sends_the_template_and_commits_on_verify(setup, frozen_clock):
    s = setup
    challenge = await result(
        s.service, START_ENROLLMENT, store=s.store, user="alice", phone="44 7079 692712"
    )
    assert challenge["maskedPhoneNumber"] == "+44******2712"
    assert challenge["attemptsLeft"] == 3 and challenge["sms"]["status"] == "SENT"
    assert challenge["sms"]["segments"] == 1
    (sent,) = s.gateway.received
    assert sent["to"] == PHONE and re.fullmatch(r"\[Acme\] Your Acme code is \d{6}", sent["text"])
    before = await result(s.service, REQUIREMENTS, store=s.store, user="alice")
    assert before["enrolled"] is False
    enrolled = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=s.gateway.last_code()
    )
    assert enrolled["maskedPhoneNumber"] == "+44******2712" and enrolled["verifiedAt"]
    after = await result(s.service, REQUIREMENTS, store=s.store, user="alice")
    assert after == {"sms": "OPTIONAL", "enrolled": True, "enrollmentRequired": False}


async def test_authentication_answers_an_assertion_verified_with_the_jwks(setup, http):
    s = setup
    await enroll(s)
    challenge = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    done = await result(
        s.service, VERIFY_AUTHENTICATION, challenge=challenge["id"], code=s.gateway.last_code()
    )
    jwks = (await http.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(done["assertion"])
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(
        done["assertion"], jwt.PyJWK(key).key, algorithms=["ES256"], audience=s.store
    )
    assert header["alg"] == "ES256"
    assert claims["sub"] == "alice" and claims["amr"] == ["sms"]
    assert claims["identity_store"] == s.store and claims["tenant"]
    assert set(claims) >= {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "amr",
        "tenant",
        "identity_store",
    }
    assert "d" not in key  # the private half is never published
    with pytest.raises(jwt.InvalidSignatureError):
        tampered = done["assertion"][:-4] + ("AAAA" if done["assertion"][-4:] != "AAAA" else "BBBB")
        jwt.decode(tampered, jwt.PyJWK(key).key, algorithms=["ES256"], audience=s.store)


async def test_wrong_code_counts_down_and_the_right_one_still_works(setup):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    wrong = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code="000000")
    if s.gateway.last_code() == "000000":  # one chance in a million
        return
    assert (wrong["code"], wrong["attemptsLeft"], wrong["field"]) == ("INVALID_CODE", 2, "code")
    ok = await result(
        s.service,
        VERIFY_ENROLLMENT,
        challenge=challenge["id"],
        code=" " + s.gateway.last_code() + " ",
    )
    assert ok["verifiedAt"]


async def test_a_code_works_once(setup):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    code = s.gateway.last_code()
    await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    again = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    assert again["code"] == "CODE_EXPIRED" and "used" in again["message"]


async def test_expired_code(setup, frozen_clock):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    frozen_clock.advance(seconds=301)
    late = await result(
        s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=s.gateway.last_code()
    )
    assert late["code"] == "CODE_EXPIRED"


async def test_too_many_attempts_locks_and_new_challenge_waits_the_cooldown(setup, frozen_clock):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    good = s.gateway.last_code()
    bad = "111111" if good != "111111" else "222222"
    answers = [
        await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=bad)
        for _ in range(3)
    ]
    assert [a["code"] for a in answers] == ["INVALID_CODE", "INVALID_CODE", "TOO_MANY_ATTEMPTS"]
    assert answers[2]["retryAt"]
    locked = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=good)
    assert locked["code"] == "TOO_MANY_ATTEMPTS"
    frozen_clock.advance(seconds=10)
    soon = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert soon["code"] == "RESEND_TOO_SOON" and soon["availableAt"]
    frozen_clock.advance(seconds=21)
    fresh = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert fresh["attemptsLeft"] == 3


async def test_resend_waits_the_cooldown_and_replaces_the_code(setup, frozen_clock):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    first_code = s.gateway.last_code()
    soon = await result(s.service, RESEND, challenge=challenge["id"])
    assert soon["code"] == "RESEND_TOO_SOON"
    assert soon["availableAt"] == challenge["resendAvailableAt"]
    frozen_clock.advance(seconds=30)
    resent = await result(s.service, RESEND, challenge=challenge["id"])
    assert resent["id"] == challenge["id"] and len(s.gateway.received) == 2
    second_code = s.gateway.last_code()
    if second_code != first_code:
        old = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=first_code)
        assert old["code"] == "INVALID_CODE"
    ok = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=second_code)
    assert ok["verifiedAt"]


async def test_starting_again_supersedes_the_old_challenge(setup, frozen_clock):
    s = setup
    old = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    old_code = s.gateway.last_code()
    frozen_clock.advance(seconds=30)
    await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    stale = await result(s.service, VERIFY_ENROLLMENT, challenge=old["id"], code=old_code)
    assert stale["code"] == "CODE_EXPIRED" and "newer" in stale["message"]


async def test_user_session_token_runs_only_its_users_flows(setup, http, frozen_clock):
    s = setup
    session = await result(s.service, CREATE_SESSION, store=s.store, user="alice", ttl=600)
    mobile = GraphQLClient(http, session["token"])
    assert (await enroll(s, client=mobile))["verifiedAt"]
    other = await result(mobile, START_ENROLLMENT, store=s.store, user="bob", phone=NEW_PHONE)
    assert other["code"] == "FORBIDDEN"
    bob = await result(s.service, START_ENROLLMENT, store=s.store, user="bob", phone=NEW_PHONE)
    steal = await result(
        mobile, VERIFY_ENROLLMENT, challenge=bob["id"], code=s.gateway.last_code(NEW_PHONE)
    )
    assert steal["code"] == "FORBIDDEN"
    admin_only = await mobile.execute("{ smsGateways { id } }")
    assert admin_only["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    mint = await result(mobile, CREATE_SESSION, store=s.store, user="alice")
    assert mint["code"] == "FORBIDDEN"
    frozen_clock.advance(seconds=601)
    expired = await mobile.execute(START_AUTHENTICATION, store=s.store, user="alice")
    assert expired["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_session_for_unknown_user_or_bad_ttl(setup):
    s = setup
    unknown = await result(s.service, CREATE_SESSION, store=s.store, user="nobody")
    assert unknown["code"] == "NOT_FOUND"
    bad_ttl = await result(s.service, CREATE_SESSION, store=s.store, user="alice", ttl=5)
    assert (bad_ttl["code"], bad_ttl["field"]) == ("VALIDATION", "ttlSeconds")


async def test_not_enrolled_and_sms_not_enabled(setup, admin):
    s = setup
    not_enrolled = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert not_enrolled["code"] == "NOT_ENROLLED"
    guest = await result(s.service, START_ENROLLMENT, store=s.store, user="guest", phone=PHONE)
    assert guest["code"] == "SMS_NOT_ENABLED" and "roles" in guest["message"]
    unknown = await result(s.service, START_ENROLLMENT, store=s.store, user="nobody", phone=PHONE)
    assert (unknown["code"], unknown["field"]) == ("NOT_FOUND", "userId")
    await admin.ok(CONFIGURE_SMS, store=s.store, input={"enabled": False})
    off = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert off["code"] == "SMS_NOT_ENABLED" and "store" in off["message"]
    assert s.gateway.received == []


async def test_enforced_role_without_enrollment_requires_it(setup):
    s = setup
    needed = await result(s.service, REQUIREMENTS, store=s.store, user="boss")
    assert needed == {"sms": "REQUIRED", "enrolled": False, "enrollmentRequired": True}
    await enroll(s, user="boss")
    done = await result(s.service, REQUIREMENTS, store=s.store, user="boss")
    assert done == {"sms": "REQUIRED", "enrolled": True, "enrollmentRequired": False}


async def test_reenrolling_keeps_the_old_number_until_the_new_one_is_verified(setup, frozen_clock):
    s = setup
    await enroll(s)
    frozen_clock.advance(seconds=30)
    pending = await result(
        s.service, START_ENROLLMENT, store=s.store, user="alice", phone=NEW_PHONE
    )
    frozen_clock.advance(seconds=30)
    auth = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert auth["maskedPhoneNumber"] == "+44******2712"
    assert s.gateway.received[-1]["to"] == PHONE
    frozen_clock.advance(seconds=30)
    pending = await result(
        s.service, START_ENROLLMENT, store=s.store, user="alice", phone=NEW_PHONE
    )
    await result(
        s.service, VERIFY_ENROLLMENT, challenge=pending["id"], code=s.gateway.last_code(NEW_PHONE)
    )
    frozen_clock.advance(seconds=30)
    auth = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert auth["maskedPhoneNumber"] == "+44******3456"


@pytest.mark.parametrize("phone", ["+442079460000", "12345", "+8001234", "not a number"])
async def test_numbers_that_cannot_take_a_code_are_refused(setup, phone):
    refused = await result(
        setup.service, START_ENROLLMENT, store=setup.store, user="alice", phone=phone
    )
    assert refused["code"] == "INVALID_PHONE_NUMBER" and refused["reason"]


async def test_gateway_failure_leaves_the_challenge_retryable(setup):
    s = setup
    s.gateway.status = 503
    failed = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    assert failed["code"] == "GATEWAY_UNAVAILABLE" and failed["challenge"]["id"]
    s.gateway.status = 200
    retried = await result(s.service, RESEND, challenge=failed["challenge"]["id"])
    assert retried["sms"]["status"] == "SENT"
    done = await result(
        s.service, VERIFY_ENROLLMENT, challenge=retried["id"], code=s.gateway.last_code()
    )
    assert done["verifiedAt"]


async def test_gateway_failure_during_authentication_keeps_the_enrollment(setup):
    s = setup
    await enroll(s)
    s.gateway.status = 400
    failed = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert failed["code"] == "GATEWAY_REJECTED"
    still = await result(s.service, REQUIREMENTS, store=s.store, user="alice")
    assert still["enrolled"] is True


async def test_remove_enrollment(setup):
    s = setup
    await enroll(s)
    removed = await result(s.service, REMOVE_ENROLLMENT, store=s.store, user="alice")
    assert removed["id"]
    again = await result(s.service, REMOVE_ENROLLMENT, store=s.store, user="alice")
    assert again["code"] == "NOT_ENROLLED"
    auth = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert auth["code"] == "NOT_ENROLLED"


async def test_every_step_is_audited_without_codes(setup, frozen_clock):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    code = s.gateway.last_code()
    bad = "111111" if code != "111111" else "222222"
    await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=bad)
    await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    await result(s.service, START_ENROLLMENT, store=s.store, user="guest", phone=PHONE)
    events = (await s.admin.data(AUDIT, user="alice"))["auditEvents"]["edges"]
    steps = [(e["node"]["action"], e["node"]["outcome"]) for e in events]
    assert steps == [
        ("SMS_ENROLLMENT_VERIFY", "SUCCESS"),
        ("SMS_ENROLLMENT_VERIFY", "INVALID_CODE"),
        ("SMS_ENROLLMENT_START", "SUCCESS"),
    ]
    node = events[0]["node"]
    assert node["maskedPhoneNumber"] == "+44******2712" and node["userId"] == "alice"
    assert node["identityStoreId"] == s.store and node["actor"].startswith("api-key:")
    everything = str(await s.admin.data(AUDIT, first=100))
    assert code not in everything and PHONE not in everything
    guest = (await s.admin.data(AUDIT, user="guest"))["auditEvents"]["edges"]
    assert guest[0]["node"]["outcome"] == "SMS_NOT_ENABLED"
    service_view = await s.service.execute(AUDIT)
    assert service_view["errors"][0]["extensions"]["code"] == "FORBIDDEN"
