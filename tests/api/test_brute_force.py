"""Brute force of a 6-digit code within the default limits: an attacker who drives the flows as
fast as the server answers, for one simulated hour, gets 15 guesses at one number's codes and 60
from one IP address. Each guess hits with probability 1e-6 (every challenge has a new code), so
one number's codes take about 1e6 / 15 hours (7.6 years) to guess on average.
"""

from datetime import datetime, timedelta

import pytest

from tests.api.graphql_documents import UPSERT_USER
from tests.api.otp_documents import START_AUTHENTICATION, VERIFY_AUTHENTICATION
from tests.api.otp_support import enroll, result
from tests.conftest import GraphQLClient

UK = [f"+4477001234{i:02d}" for i in range(12)]
GUESSES_PER_NUMBER_HOUR = 15
GUESSES_PER_IP_HOUR = 60
ATTACKER = "203.0.113.66"


def retry_at(answer: dict) -> datetime:
    return datetime.fromisoformat(answer["retryAt"])


async def attack(s, frozen_clock, phones: dict[str, str]) -> dict[str, int]:
    """Start challenges and send wrong codes for one hour; count guesses the server evaluated.

    The attacker drives the tenant's login page, whose server relays the attacker's IP address.
    """
    client = GraphQLClient(s.service.http, s.service.token, {"smsauth-forwarded-for": ATTACKER})
    active = list(phones)
    evaluated = dict.fromkeys(active, 0)
    end = frozen_clock.now() + timedelta(hours=1)
    while frozen_clock.now() < end and active:
        for user in list(active):
            challenge = await result(client, START_AUTHENTICATION, store=s.store, user=user)
            if "id" not in challenge:  # cooldown or a limit: the attacker just keeps trying
                assert challenge["code"] in ("RESEND_TOO_SOON", "RATE_LIMITED"), challenge
                if challenge["code"] == "RATE_LIMITED" and retry_at(challenge) >= end:
                    active.remove(user)  # refused for the rest of the hour
                continue
            wrong = f"{(int(s.gateway.last_code(phones[user])) + 1) % 10**6:06d}"
            while True:
                answer = await result(
                    client, VERIFY_AUTHENTICATION, challenge=challenge["id"], code=wrong
                )
                if answer["code"] in ("INVALID_CODE", "TOO_MANY_ATTEMPTS"):
                    evaluated[user] += 1  # the code was checked (and was wrong)
                if answer["code"] != "INVALID_CODE":
                    assert answer["code"] in ("TOO_MANY_ATTEMPTS", "RATE_LIMITED"), answer
                    if answer["code"] == "RATE_LIMITED" and retry_at(answer) >= end:
                        active.remove(user)
                    break
        frozen_clock.advance(seconds=31)  # the resend cooldown
    return evaluated


@pytest.fixture
async def victims(setup, frozen_clock):
    """Six enrolled users, then an hour later (the enrollment counted against the limits)."""
    phones = {f"victim{i}": UK[i] for i in range(6)}
    for user, phone in phones.items():
        await setup.admin.ok(
            UPSERT_USER, store=setup.store, input={"userId": user, "roles": ["staff"]}
        )
        await enroll(setup, user, phone)
        frozen_clock.advance(seconds=31)
    frozen_clock.advance(hours=1)
    return phones


async def test_one_number_gets_15_guesses_an_hour(setup, frozen_clock, victims):
    evaluated = await attack(setup, frozen_clock, {"victim0": victims["victim0"]})
    assert evaluated == {"victim0": GUESSES_PER_NUMBER_HOUR}


async def test_one_ip_address_gets_60_guesses_an_hour_over_many_numbers(
    setup, frozen_clock, victims
):
    evaluated = await attack(setup, frozen_clock, victims)
    assert sum(evaluated.values()) == GUESSES_PER_IP_HOUR
    assert max(evaluated.values()) <= GUESSES_PER_NUMBER_HOUR
