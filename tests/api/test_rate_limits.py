"""Rate limits on the OTP flows, through GraphQL: per phone number, user, client IP, tenant and
country; per-store overrides; allowed countries. Counters live in the test database here (the
Redis backend passes the same counter suite in tests/domain/test_counters.py)."""

from datetime import datetime, timedelta

import httpx
import pytest

from tests.api.graphql_documents import CONFIGURE_SMS, UPSERT_USER
from tests.api.otp_documents import (
    CREATE_SESSION,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_ENROLLMENT,
)
from tests.api.otp_support import NEW_PHONE, PHONE, enroll, result
from tests.conftest import GraphQLClient

UK = [f"+4477001234{i:02d}" for i in range(12)]
GERMAN, FRENCH, PREMIUM = "+4915112345678", "+33612345678", "+449098790000"

LIMITS_DOCUMENT = """
query($id: ID!) { identityStore(id: $id) { smsAuthentication {
  allowedCallingCodes velocityFactor velocityMinimum
  rateLimits { action scope windowSeconds maximum isDefault } } } }"""


def limit(action: str, scope: str, maximum: int, window: int = 3600) -> dict:
    return {"action": action, "scope": scope, "windowSeconds": window, "maximum": maximum}


@pytest.fixture
async def s(setup, frozen_clock):
    """The OTP bench with no resend cooldown, so only the rate limits refuse."""
    await setup.admin.ok(CONFIGURE_SMS, store=setup.store, input={"resendCooldownSeconds": 0})
    for name in ("carol", "dave", "erin"):
        await setup.admin.ok(
            UPSERT_USER, store=setup.store, input={"userId": name, "roles": ["staff"]}
        )
    return setup


async def limits(s, *overrides: dict) -> None:
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"rateLimits": list(overrides)})


async def start(client, s, user: str, phone: str) -> dict:
    return await result(client, START_ENROLLMENT, store=s.store, user=user, phone=phone)


def refused(answer: dict, scope: str) -> datetime:
    assert answer.get("code") == "RATE_LIMITED", answer
    assert answer["__typename"] == "RateLimitedError" and answer["scope"] == scope, answer
    return datetime.fromisoformat(answer["retryAt"])


@pytest.fixture
def from_ip(http, s):
    """The SERVICE key of a server that relays an end user at this IP address."""
    return lambda ip: GraphQLClient(http, s.service.token, {"smsauth-forwarded-for": ip})


@pytest.fixture
async def device(app):
    """A user's own device at an IP address, with a user session token."""
    clients = []

    async def make(ip: str, token: str) -> GraphQLClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://smsauth.test")
        clients.append(client)
        return GraphQLClient(client, token)

    yield make
    for client in clients:
        await client.aclose()


async def user_token(s, user: str) -> str:
    session = await result(s.service, CREATE_SESSION, store=s.store, user=user)
    return session["token"]


async def test_codes_to_one_number_are_limited_per_hour_whoever_asks(s, frozen_clock):
    first = frozen_clock.now()
    for user in ("alice", "alice", "bob", "carol", "dave"):
        assert "id" in await start(s.service, s, user, PHONE)
        frozen_clock.advance(minutes=1)
    retry_at = refused(await start(s.service, s, "erin", PHONE), "PHONE_NUMBER")
    assert retry_at == first + timedelta(hours=1)
    assert "id" in await start(s.service, s, "erin", NEW_PHONE)  # another number is fine
    frozen_clock.advance(seconds=(retry_at - frozen_clock.now()).total_seconds())
    assert "id" in await start(s.service, s, "alice", PHONE)


async def test_codes_to_one_user_are_limited(s):
    await limits(s, limit("SEND", "USER", 2))
    assert "id" in await start(s.service, s, "alice", UK[0])
    assert "id" in await start(s.service, s, "alice", UK[1])
    refused(await start(s.service, s, "alice", UK[2]), "USER")
    assert "id" in await start(s.service, s, "bob", UK[2])


async def test_codes_for_one_end_user_ip_are_limited(s, from_ip):
    await limits(s, limit("SEND", "CLIENT_IP", 2))
    relayed = from_ip("198.51.100.7")
    assert "id" in await start(relayed, s, "alice", UK[0])
    assert "id" in await start(relayed, s, "bob", UK[1])
    refused(await start(relayed, s, "carol", UK[2]), "CLIENT_IP")
    refused(await start(from_ip("198.51.100.7, 10.0.0.1"), s, "carol", UK[2]), "CLIENT_IP")
    assert "id" in await start(from_ip("203.0.113.9"), s, "carol", UK[2])
    # A server that names no end user is not limited by its own address.
    assert "id" in await start(s.service, s, "dave", UK[3])


async def test_a_users_own_device_is_limited_by_its_address(s, device):
    await limits(s, limit("SEND", "CLIENT_IP", 2))
    phone = await device("192.0.2.10", await user_token(s, "alice"))
    assert "id" in await start(phone, s, "alice", UK[0])
    assert "id" in await start(phone, s, "alice", UK[1])
    refused(await start(phone, s, "alice", UK[2]), "CLIENT_IP")
    other = await device("192.0.2.11", await user_token(s, "bob"))
    assert "id" in await start(other, s, "bob", UK[2])


async def test_codes_sent_by_the_tenant_are_limited(s, from_ip):
    await limits(s, limit("SEND", "TENANT", 3))
    for index, user in enumerate(("alice", "bob", "carol")):
        client = from_ip(f"198.51.100.{index + 1}")
        assert "id" in await start(client, s, user, UK[index])
    client = from_ip("198.51.100.9")
    refused(await start(client, s, "dave", UK[3]), "TENANT")


async def test_codes_sent_to_one_country_are_limited(s):
    await limits(s, limit("SEND", "COUNTRY", 2))
    assert "id" in await start(s.service, s, "alice", UK[0])
    assert "id" in await start(s.service, s, "bob", UK[1])
    refused(await start(s.service, s, "carol", UK[2]), "COUNTRY")
    assert "id" in await start(s.service, s, "carol", GERMAN)


async def test_checks_of_codes_are_limited_and_a_refusal_costs_no_attempt(s, frozen_clock):
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"codeTtlSeconds": 7200})
    await limits(s, limit("VERIFY", "USER", 2))
    challenge = await start(s.service, s, "alice", PHONE)
    code = s.gateway.last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (2, 1):
        answer = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=wrong)
        assert answer["code"] == "INVALID_CODE" and answer["attemptsLeft"] == left
    retry_at = refused(
        await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code), "USER"
    )
    frozen_clock.advance(seconds=(retry_at - frozen_clock.now()).total_seconds())
    answer = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
    assert "verifiedAt" in answer, answer  # the refused check did not use the last attempt


async def test_a_store_shows_every_limit_in_force_and_takes_overrides(s):
    before = await s.admin.data(LIMITS_DOCUMENT, id=s.store)
    shown = before["identityStore"]["smsAuthentication"]
    assert shown["allowedCallingCodes"] == [] and shown["velocityFactor"] == 10
    assert {(r["action"], r["scope"]) for r in shown["rateLimits"]} == {
        ("SEND", "PHONE_NUMBER"),
        ("SEND", "USER"),
        ("SEND", "CLIENT_IP"),
        ("SEND", "TENANT"),
        ("SEND", "COUNTRY"),
        ("VERIFY", "PHONE_NUMBER"),
        ("VERIFY", "USER"),
        ("VERIFY", "CLIENT_IP"),
    }
    assert all(r["isDefault"] for r in shown["rateLimits"])
    await limits(s, limit("SEND", "PHONE_NUMBER", 3, window=86400))
    after = await s.admin.data(LIMITS_DOCUMENT, id=s.store)
    changed = [
        r for r in after["identityStore"]["smsAuthentication"]["rateLimits"] if not r["isDefault"]
    ]
    assert changed == [
        {
            "action": "SEND",
            "scope": "PHONE_NUMBER",
            "windowSeconds": 86400,
            "maximum": 3,
            "isDefault": False,
        }
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ([limit("VERIFY", "TENANT", 5)], "rateLimits.0"),
        ([limit("SEND", "USER", 5, window=0)], "rateLimits.0.windowSeconds"),
        ([limit("SEND", "USER", 0)], "rateLimits.0.maximum"),
        ([limit("SEND", "USER", 5), limit("SEND", "USER", 6)], "rateLimits.1"),
    ],
)
async def test_bad_limits_are_refused_and_change_nothing(s, overrides, field):
    body = await s.admin.data(
        CONFIGURE_SMS, store=s.store, input={"rateLimits": overrides, "codeLength": 8}
    )
    answer = body["configureSmsAuthentication"]
    assert answer["code"] == "VALIDATION" and answer["field"] == field, answer
    shown = await s.admin.data(LIMITS_DOCUMENT, id=s.store)
    assert all(r["isDefault"] for r in shown["identityStore"]["smsAuthentication"]["rateLimits"])


async def test_only_allowed_countries_get_codes(s):
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"allowedCallingCodes": [44, 44, 1]})
    shown = await s.admin.data(LIMITS_DOCUMENT, id=s.store)
    assert shown["identityStore"]["smsAuthentication"]["allowedCallingCodes"] == [44, 1]
    answer = await start(s.service, s, "alice", GERMAN)
    assert answer["code"] == "INVALID_PHONE_NUMBER", answer
    assert answer["reason"] == (
        "numbers with country code +49 are not allowed here (allowed: +1, +44)"
    )
    assert "id" in await start(s.service, s, "bob", UK[0])


async def test_a_number_enrolled_before_its_country_was_removed_gets_no_code(s):
    await enroll(s, "alice", FRENCH)
    await s.admin.ok(CONFIGURE_SMS, store=s.store, input={"allowedCallingCodes": [44]})
    answer = await result(s.service, START_AUTHENTICATION, store=s.store, user="alice")
    assert answer["code"] == "INVALID_PHONE_NUMBER" and "+33" in answer["message"], answer


async def test_premium_rate_numbers_are_refused(s):
    answer = await start(s.service, s, "alice", PREMIUM)
    assert answer["code"] == "INVALID_PHONE_NUMBER" and "premium-rate" in answer["reason"]


async def test_an_unknown_calling_code_is_a_validation_error(s):
    body = await s.admin.data(
        CONFIGURE_SMS, store=s.store, input={"allowedCallingCodes": [44, 999]}
    )
    answer = body["configureSmsAuthentication"]
    assert answer["code"] == "VALIDATION" and answer["field"] == "allowedCallingCodes.1"
