"""SMS one-time-password flows: enrollment and authentication challenges and their codes.

Codes are HOTP values (pyotp) of a per-challenge random secret, kept encrypted, and a counter
that a resend moves on, so a challenge has one live code. Attempts are claimed with a conditional
UPDATE before a code is checked, so concurrent guesses cannot exceed the limit, and a code is
marked used the same way, so it works once.

A store's test phone numbers (``TestPhoneNumber``, while ``test_numbers_enabled``) take their
fixed code instead: nothing is sent, no limit is counted, and the steps are marked ``test``.
A sandbox store's codes all go to the tenant's built-in test gateway, in the request.
"""

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from tortoise.transactions import in_transaction

from domain import (
    audit,
    challenges,
    clock,
    localized_texts,
    metrics,
    otp_reads,
    velocity,
)
from domain.auth import Principal
from domain.delivery import publish
from domain.errors import (
    CodeExpired,
    DomainError,
    GatewayFailure,
    InvalidCode,
    NotEnrolled,
    NotFound,
    ResendTooSoon,
    SmsNotEnabled,
    TooManyAttempts,
    ValidationFailed,
)
from domain.messaging import Outgoing, enqueue, record_test, sandbox_gateway, send_now
from domain.models import (
    Challenge,
    ChallengeStatus,
    IdentityStore,
    MessagePurpose,
    SmsGateway,
    SmsMessage,
    StoreUser,
    TestPhoneNumber,
)
from domain.phone import mask, parse_phone, require_allowed_country, require_sms_capable
from domain.runtime import Runtime
from domain.send_guard import admit_check, admit_send, check_send
from domain.sms_text import render_code

MAX_CODE_INPUT = 32


@dataclass
class AuditNote:
    """What a flow step learned, for its audit event."""

    store_id: uuid.UUID | None = None
    user_id: str | None = None
    masked_phone: str | None = None
    test: bool = False  # a step for a test phone number


@contextlib.asynccontextmanager
async def audited(principal: Principal, action: str) -> AsyncIterator[AuditNote]:
    note = AuditNote()
    try:
        yield note
    except DomainError as error:
        await _audit(principal, action, error.code, note, error.message)
        raise
    await _audit(principal, action, "SUCCESS", note, None)


async def _audit(
    principal: Principal, action: str, outcome: str, note: AuditNote, detail: str | None
) -> None:
    metrics.flow_step(action, outcome)
    await audit.record(
        principal,
        action,
        outcome,
        identity_store_id=note.store_id,
        user_id=note.user_id,
        masked_phone_number=note.masked_phone,
        detail=detail,
        test=note.test,
    )


async def start_enrollment(
    principal: Principal,
    runtime: Runtime,
    store_id: uuid.UUID,
    user_id: str,
    phone: str | None,
    locale: str | None = None,
) -> Challenge:
    """Send a code to a new number; the user's enrollment changes only when it is verified.
    ``locale`` (a BCP 47 tag) picks the text's language before the user's own."""
    async with audited(principal, "SMS_ENROLLMENT_START") as note:
        subject = await _flow_subject(principal, note, store_id, user_id)
        raw = phone or subject.user.phone_number
        if not raw:
            raise ValidationFailed("give the phone number to enroll", field="phoneNumber")
        phone = require_sms_capable(parse_phone(raw, subject.store.default_region))
        number = require_allowed_country(phone, subject.store.allowed_calling_codes).e164
        note.masked_phone = mask(number)
        fixed = await _fixed_code(subject.store, number, note)
        return await _challenge(
            runtime, principal, subject, number, MessagePurpose.ENROLLMENT, locale, fixed
        )


async def start_authentication(
    principal: Principal,
    runtime: Runtime,
    store_id: uuid.UUID,
    user_id: str,
    locale: str | None = None,
) -> Challenge:
    async with audited(principal, "SMS_AUTHENTICATION_START") as note:
        subject = await _flow_subject(principal, note, store_id, user_id)
        user = subject.user
        if user.phone_verified_at is None or not user.phone_number:
            raise NotEnrolled()
        note.masked_phone = mask(user.phone_number)
        fixed = await _fixed_code(subject.store, user.phone_number, note)
        return await _challenge(
            runtime,
            principal,
            subject,
            user.phone_number,
            MessagePurpose.AUTHENTICATION,
            locale,
            fixed,
        )


async def verify_enrollment(
    principal: Principal, runtime: Runtime, challenge_id: uuid.UUID, code: str
) -> StoreUser:
    """Check the code; on success the challenge's number becomes the user's verified phone."""
    async with audited(principal, "SMS_ENROLLMENT_VERIFY") as note:
        challenge = await _verify(
            principal, runtime, challenge_id, code, note, MessagePurpose.ENROLLMENT
        )
        user = challenge.user
        user.phone_number, user.phone_verified_at = challenge.phone_number, clock.now()
        await user.save(update_fields=["phone_number", "phone_verified_at", "updated_at"])
        return user


async def verify_authentication(
    principal: Principal, runtime: Runtime, challenge_id: uuid.UUID, code: str
) -> Challenge:
    async with audited(principal, "SMS_AUTHENTICATION_VERIFY") as note:
        return await _verify(
            principal, runtime, challenge_id, code, note, MessagePurpose.AUTHENTICATION
        )


async def resend_code(principal: Principal, runtime: Runtime, challenge_id: uuid.UUID) -> Challenge:
    """A new code for the same challenge (the old one stops working); attempts are not reset."""
    async with audited(principal, "SMS_CODE_RESEND") as note:
        challenge = await _load_challenge(principal, challenge_id, note)
        now = clock.now()
        challenges.refuse_finished(challenge)
        store = challenge.identity_store
        if not challenge.test:  # a test number's resend waits for nothing and counts nothing
            if now < challenge.resend_available_at and not await challenges.last_send_failed(
                challenge
            ):
                raise ResendTooSoon(challenge.resend_available_at)
            await admit_send(runtime, principal, store, challenge.user_id, challenge.phone_number)
        previous = challenge.sms_id
        if store.sandbox:
            gateway = await sandbox_gateway(store.tenant_id)
        else:
            gateway = await SmsGateway.get(id=store.sms_gateway_id)
        async with in_transaction():
            moved = await Challenge.filter(id=challenge.id, counter=challenge.counter).update(
                counter=challenge.counter + 1,
                expires_at=now + timedelta(seconds=store.code_ttl_seconds),
                resend_available_at=now if challenge.test else now + _cooldown(store),
            )
            if not moved:
                raise ResendTooSoon(now)  # a concurrent resend won
            await challenge.refresh_from_db()
            sms = await _queue_code(
                runtime, store, challenge, gateway, user_locale=challenge.user.locale
            )
            challenge.sms_id = sms.id
            await challenge.save(update_fields=["sms_id"])
        if previous is not None:  # the challenge's followers move to the new message
            await publish(runtime, sms, "a new code was sent", replaces=previous)
        await _dispatch(runtime, store, challenge, sms)
        return challenge


async def remove_enrollment(principal: Principal, store_id: uuid.UUID, user_id: str) -> StoreUser:
    async with audited(principal, "SMS_ENROLLMENT_REMOVE") as note:
        note.user_id = user_id
        principal.require_user(store_id, user_id)
        user = (await _subject(principal, note, store_id, user_id)).user
        if user.phone_verified_at is None:
            raise NotEnrolled()
        note.masked_phone = mask(user.phone_number or "")
        user.phone_number, user.phone_verified_at = None, None
        await user.save(update_fields=["phone_number", "phone_verified_at", "updated_at"])
        await Challenge.filter(user_id=user.id, status=ChallengeStatus.PENDING).update(
            status=ChallengeStatus.SUPERSEDED
        )
        return user


async def _flow_subject(
    principal: Principal, note: AuditNote, store_id: uuid.UUID, user_id: str
) -> otp_reads.Subject:
    """The store, user and gateway of a new challenge, if SMS is on for both."""
    note.user_id = user_id
    principal.require_user(store_id, user_id)
    subject = await _subject(principal, note, store_id, user_id)
    store = subject.store
    if not store.sms_enabled or (subject.gateway is None and not store.sandbox):
        raise SmsNotEnabled("SMS authentication is not enabled for this identity store")
    if not subject.sms_role:
        raise SmsNotEnabled("SMS authentication is not enabled for the user's roles")
    return subject


async def _subject(
    principal: Principal, note: AuditNote, store_id: uuid.UUID, user_id: str
) -> otp_reads.Subject:
    subject = await otp_reads.subject(principal.tenant_id, store_id, user_id)
    if subject is None:
        if not await IdentityStore.filter(id=store_id, tenant_id=principal.tenant_id).exists():
            raise NotFound("identity store", field="identityStoreId")
        note.store_id = store_id
        raise NotFound("user", field="userId")
    note.store_id = store_id  # the audit event names only the tenant's own stores
    return subject


async def _challenge(
    runtime: Runtime,
    principal: Principal,
    subject: otp_reads.Subject,
    number: str,
    purpose: MessagePurpose,
    locale: str | None,
    fixed: str | None = None,
) -> Challenge:
    """A new challenge for ``number``; ``fixed`` (a test number's code hash) skips the cooldown
    and every limit, and nothing is sent."""
    store, user = subject.store, subject.user
    now = clock.now()
    if (
        fixed is None
        and subject.last_resend_at is not None
        and subject.last_status != ChallengeStatus.VERIFIED
        and now < subject.last_resend_at
    ):
        raise ResendTooSoon(subject.last_resend_at)
    gateway = await sandbox_gateway(store.tenant_id) if store.sandbox else subject.gateway
    try:
        # One transaction: the send's counts, the challenge and its message (the outbox row).
        async with in_transaction():
            surge = None if fixed else await check_send(runtime, principal, store, user.id, number)
            if surge is not None:
                raise _Surge(surge)  # roll the counts back, then hold the country
            await challenges.supersede_pending(user)
            challenge = Challenge(
                tenant_id=store.tenant_id,
                identity_store_id=store.id,
                user=user,
                purpose=purpose,
                phone_number=number,
                secret=runtime.secret_box.encrypt(fixed or pyotp.random_base32()),
                test=fixed is not None,
                code_length=store.code_length,
                attempts_left=store.max_attempts,
                expires_at=now + timedelta(seconds=store.code_ttl_seconds),
                resend_available_at=now if fixed else now + _cooldown(store),
                created_at=now,
            )
            sms = await _queue_code(runtime, store, challenge, gateway, locale, user.locale)
            challenge.sms_id = sms.id
            await challenge.save()  # one INSERT, with its message
    except _Surge as refused:
        await velocity.hold(principal, refused.surge)
    await _dispatch(runtime, store, challenge, sms)
    return challenge


async def _fixed_code(store: IdentityStore, number: str, note: AuditNote) -> str | None:
    """The code hash of ``number`` if it is one of the store's test numbers and they are on;
    no query unless the store has any (its row carries the count)."""
    if not store.test_numbers_enabled or store.test_number_count <= 0:
        return None
    row = await TestPhoneNumber.get_or_none(identity_store_id=store.id, phone_number=number)
    note.test = row is not None
    return row.code_hash if row else None


def _cooldown(store: IdentityStore) -> timedelta:
    return timedelta(seconds=store.resend_cooldown_seconds)


class _Surge(Exception):
    """Rolls a start's transaction back: the send is a surge (``velocity.surge``)."""

    def __init__(self, surge: velocity.Surge) -> None:
        super().__init__(surge.reason)
        self.surge = surge


async def _queue_code(
    runtime: Runtime,
    store: IdentityStore,
    challenge: Challenge,
    gateway: SmsGateway,
    locale: str | None = None,
    user_locale: str | None = None,
) -> SmsMessage:
    """The outbox row carrying the challenge's current code, in the language chosen by
    ``domain.localized_texts`` (the flow's locale, the user's, the number's country); for a
    test number, a DELIVERED row that keeps no text (its code is the number's fixed code)."""
    if challenge.test:
        code = "*" * challenge.code_length
    else:
        code = challenges.hotp(runtime, challenge).at(challenge.counter)
    text = localized_texts.choose(
        store.text_message, store.text_messages, locale, user_locale, challenge.phone_number
    )
    outgoing = Outgoing(
        tenant_id=store.tenant_id,
        gateway=gateway,
        to=challenge.phone_number,
        body=render_code(text.text, code),
        purpose=MessagePurpose(challenge.purpose),
        identity_store_id=store.id,
        expires_at=challenge.expires_at,
        dispatched=not store.sandbox,  # a sandbox store's code is sent in the request only
    )
    if challenge.test:
        return await record_test(outgoing)
    return await enqueue(outgoing, runtime)


async def _dispatch(
    runtime: Runtime, store: IdentityStore, challenge: Challenge, sms: SmsMessage
) -> None:
    """Queued messages go out through the dispatcher; a store may ask to send in the request,
    where a failure is the answer and leaves the challenge retryable at once. A test number's
    message is DELIVERED already; a sandbox store's goes to the test gateway in the request (no
    retries, so never on to the store's real backup gateway)."""
    if challenge.test:
        return
    if not store.synchronous_sending and not store.sandbox:
        runtime.queued()
        return
    try:
        await send_now(sms, runtime)
    except GatewayFailure as failure:
        challenge.resend_available_at = clock.now()
        await challenge.save(update_fields=["resend_available_at"])
        failure.challenge = challenge
        raise


async def _load_challenge(
    principal: Principal, challenge_id: uuid.UUID, note: AuditNote
) -> Challenge:
    challenge = await otp_reads.challenge(principal.tenant_id, challenge_id)
    if challenge is None:
        raise NotFound("challenge", field="challengeId")
    note.store_id, note.user_id = challenge.identity_store_id, challenge.user.user_id
    note.masked_phone, note.test = mask(challenge.phone_number), challenge.test
    principal.require_user(challenge.identity_store_id, challenge.user.user_id)
    return challenge


async def _verify(
    principal: Principal,
    runtime: Runtime,
    challenge_id: uuid.UUID,
    code: str,
    note: AuditNote,
    purpose: MessagePurpose,
) -> Challenge:
    challenge = await _load_challenge(principal, challenge_id, note)
    if challenge.purpose != purpose:
        raise NotFound("challenge", field="challengeId")
    challenges.refuse_finished(challenge)
    now = clock.now()
    if now >= challenge.expires_at:
        raise CodeExpired()
    store = challenge.identity_store
    if not challenge.test:  # a test number's checks count against no limit (attempts still do)
        await admit_check(runtime, principal, store, challenge.user_id, challenge.phone_number)
    left = await challenges.claim_attempt(challenge)
    if left is None:
        await challenge.refresh_from_db(fields=["attempts_left", "status", "resend_available_at"])
        challenges.refuse_finished(challenge)
        raise TooManyAttempts(challenge.resend_available_at)
    challenge.attempts_left = left
    given = "".join((code or "")[:MAX_CODE_INPUT].split())
    good = (
        given.isascii()
        and given.isdigit()
        and len(given) == challenge.code_length
        and challenges.code_matches(runtime, challenge, given)
    )
    if good:
        won = await Challenge.filter(id=challenge.id, status=ChallengeStatus.PENDING).update(
            status=ChallengeStatus.VERIFIED, verified_at=now
        )
        if not won:
            raise CodeExpired("the code was used already; start again")
        return challenge
    if challenge.attempts_left <= 0:
        retry_at = now + timedelta(seconds=store.resend_cooldown_seconds)
        await Challenge.filter(id=challenge.id, status=ChallengeStatus.PENDING).update(
            status=ChallengeStatus.LOCKED, resend_available_at=retry_at
        )
        raise TooManyAttempts(retry_at)
    raise InvalidCode(challenge.attempts_left)
