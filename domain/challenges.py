"""Challenges as the OTP flows keep them: their live code (HOTP, or a test number's fixed code)
and the conditional writes that make attempts and supersession race-free (raw SQL where the ORM
cannot say it: ``UPDATE ... RETURNING``)."""

import hmac

import pyotp

from domain import identity_stores
from domain.errors import CodeExpired, TooManyAttempts
from domain.models import Challenge, ChallengeStatus, DeliveryStatus, SmsMessage, StoreUser
from domain.runtime import Runtime
from domain.sql import Params


def code_matches(runtime: Runtime, challenge: Challenge, given: str) -> bool:
    """The challenge's live code: a test number's fixed code, else the HOTP value."""
    if challenge.test:
        expected = runtime.secret_box.decrypt(challenge.secret)
        given_hash = identity_stores.code_hash(challenge.identity_store_id, given)
        return hmac.compare_digest(given_hash, expected)
    return hotp(runtime, challenge).verify(given, challenge.counter)


def hotp(runtime: Runtime, challenge: Challenge) -> pyotp.HOTP:
    return pyotp.HOTP(runtime.secret_box.decrypt(challenge.secret), digits=challenge.code_length)


async def supersede_pending(user: StoreUser) -> None:
    """The user's pending challenges stop working (a new one is being started)."""
    db = Challenge._meta.db
    p = Params(db.capabilities.dialect)
    sql = (
        f'UPDATE "challenge" SET "status"={p(ChallengeStatus.SUPERSEDED)} '
        f'WHERE "user_id"={p(user.id)} AND "status"={p(ChallengeStatus.PENDING)}'
    )
    await db.execute_query(sql, p.values)


async def claim_attempt(challenge: Challenge) -> int | None:
    """Use one attempt of a pending challenge, atomically (concurrent guesses cannot exceed the
    limit); the attempts left after it, or None when there was none to use."""
    db = Challenge._meta.db
    p = Params(db.capabilities.dialect)
    sql = (
        'UPDATE "challenge" SET "attempts_left"="attempts_left"-1 '
        f'WHERE "id"={p(challenge.id)} AND "status"={p(ChallengeStatus.PENDING)} '
        'AND "attempts_left">0 RETURNING "attempts_left"'
    )
    rows = await db.execute_query_dict(sql, p.values)
    return rows[0]["attempts_left"] if rows else None


async def last_send_failed(challenge: Challenge) -> bool:
    """The code never left: a resend need not wait the cooldown."""
    if challenge.sms_id is None:
        return False
    return await SmsMessage.filter(
        id=challenge.sms_id, status__in=[DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED]
    ).exists()


def refuse_finished(challenge: Challenge) -> None:
    if challenge.status == ChallengeStatus.VERIFIED:
        raise CodeExpired("the code was used already; start again")
    if challenge.status == ChallengeStatus.LOCKED:
        raise TooManyAttempts(challenge.resend_available_at)
    if challenge.status == ChallengeStatus.SUPERSEDED:
        raise CodeExpired("a newer code was sent; use that one")
