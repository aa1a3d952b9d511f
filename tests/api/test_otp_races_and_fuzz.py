"""Codes under concurrency (attempt limit, single use) and arbitrary input (no crash, typed errors).

The race tests matter most on PostgreSQL, where requests really run in parallel.
"""

import asyncio
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.otp_documents import START_ENROLLMENT, VERIFY_ENROLLMENT
from tests.api.otp_support import PHONE, result

USER_ERROR_CODES = {
    "INVALID_CODE",
    "CODE_EXPIRED",
    "TOO_MANY_ATTEMPTS",
    "INVALID_PHONE_NUMBER",
    "RESEND_TOO_SOON",
    "NOT_FOUND",
    "VALIDATION",
}


async def test_parallel_wrong_guesses_never_exceed_the_attempt_limit(setup):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    good = s.gateway.last_code()
    bad = "111111" if good != "111111" else "222222"
    answers = await asyncio.gather(
        *[
            result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=bad)
            for _ in range(12)
        ]
    )
    codes = [a["code"] for a in answers]
    assert codes.count("INVALID_CODE") <= 2 and set(codes) <= {"INVALID_CODE", "TOO_MANY_ATTEMPTS"}
    late = await result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=good)
    assert late["code"] == "TOO_MANY_ATTEMPTS"


async def test_parallel_right_codes_succeed_exactly_once(setup):
    s = setup
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    code = s.gateway.last_code()
    answers = await asyncio.gather(
        *[
            result(s.service, VERIFY_ENROLLMENT, challenge=challenge["id"], code=code)
            for _ in range(3)
        ]
    )
    assert sum("verifiedAt" in a for a in answers) == 1
    assert all(a.get("code") in (None, "CODE_EXPIRED", "TOO_MANY_ATTEMPTS") for a in answers)


def run_property(check, strategy, examples: int) -> None:
    """Drive hypothesis from a worker thread; each example runs on the test's own event loop."""
    loop = asyncio.get_running_loop()

    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(strategy)
    def property_holds(value):
        asyncio.run_coroutine_threadsafe(check(value), loop).result(timeout=30)

    return asyncio.to_thread(property_holds)


phones = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"\+?[0-9 ()\-.]{0,25}", fullmatch=True),
    st.sampled_from(["+447079692712", "+44 7079 692712", "447079692712", "+1", "+" + "9" * 30]),
)
codes = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"[0-9 ]{0,12}", fullmatch=True),
    st.sampled_from(["", "000000", "１２３４５６", "12345\x00", "-12345"]),
)


def refused_for_nul(text: str, body: dict) -> bool:
    """Text holding NUL is refused before it runs (api/text_input.py), as a validation error."""
    if "\x00" not in text:
        return False
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    return True


async def test_any_phone_input_is_a_challenge_or_a_typed_error(setup, frozen_clock):
    s = setup

    async def check(phone: str) -> None:
        frozen_clock.advance(seconds=3601)  # past the resend cooldown and the rate limits
        body = await s.service.execute(START_ENROLLMENT, store=s.store, user="alice", phone=phone)
        if refused_for_nul(phone, body):
            return
        assert "errors" not in body, body
        answer = body["data"]["startSmsEnrollment"]
        assert "maskedPhoneNumber" in answer or answer["code"] in USER_ERROR_CODES, answer

    await run_property(check, phones, examples=60)


async def test_any_code_input_is_a_typed_error_and_never_a_crash(setup, frozen_clock):
    s = setup
    state = {}

    async def check(code: str) -> None:
        if not state or state.get("done"):
            frozen_clock.advance(seconds=3601)  # past the rate limits
            started = await result(
                s.service, START_ENROLLMENT, store=s.store, user="bob", phone=PHONE
            )
            state.update(id=started["id"], done=False, real=s.gateway.last_code())
        body = await s.service.execute(VERIFY_ENROLLMENT, challenge=state["id"], code=code)
        if refused_for_nul(code, body):
            return
        assert "errors" not in body, body
        answer = body["data"]["verifySmsEnrollment"]
        if "verifiedAt" in answer:
            assert re.sub(r"\s", "", code) == state["real"]
        else:
            assert answer["code"] in USER_ERROR_CODES, answer
        state["done"] = "verifiedAt" in answer or answer["code"] == "TOO_MANY_ATTEMPTS"

    await run_property(check, codes, examples=60)
