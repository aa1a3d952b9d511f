"""What an OTP flow step must pass before a code goes out or is checked: the store's allowed
countries, country holds, rate limits and the velocity guard."""

import uuid

from domain import clock, rate_limits, velocity
from domain.auth import Principal
from domain.models import IdentityStore
from domain.phone import parse_phone, require_allowed_country
from domain.rate_limits import Action, Subjects
from domain.runtime import Runtime


async def admit_send(
    runtime: Runtime, principal: Principal, store: IdentityStore, user: uuid.UUID, number: str
) -> None:
    """Raise ``InvalidPhoneNumber`` or ``RateLimited`` unless a code may go to ``number`` now."""
    found = await check_send(runtime, principal, store, user, number)
    if found is not None:
        await velocity.hold(principal, found)


async def check_send(
    runtime: Runtime, principal: Principal, store: IdentityStore, user: uuid.UUID, number: str
) -> velocity.Surge | None:
    """``admit_send`` for a caller's transaction: counts the send (raising as it does), but a
    surge comes back instead of being held here, so the caller can roll its transaction back
    first and then ``velocity.hold`` it."""
    phone = require_allowed_country(parse_phone(number), store.allowed_calling_codes)
    now = clock.now()
    await velocity.refuse_if_held(store.tenant_id, phone.calling_code, now)
    subjects = Subjects(
        tenant_id=store.tenant_id,
        phone_number=phone.e164,
        user=user,
        client_ip=principal.client_ip,
        calling_code=phone.calling_code,
    )
    bucket = velocity.tally(store.tenant_id, phone.calling_code, now)
    counts = await rate_limits.enforce(
        runtime.counters,
        runtime.secret_box,
        store.rate_limits,
        Action.SEND,
        subjects,
        now,
        tallies=[bucket],
    )
    return await velocity.surge(
        runtime.counters, store, phone.calling_code, now, counts[bucket.key]
    )


async def admit_check(
    runtime: Runtime, principal: Principal, store: IdentityStore, user: uuid.UUID, number: str
) -> None:
    """Raise ``RateLimited`` unless a code for ``number`` may be checked now."""
    subjects = Subjects(
        tenant_id=store.tenant_id, phone_number=number, user=user, client_ip=principal.client_ip
    )
    await rate_limits.enforce(
        runtime.counters,
        runtime.secret_box,
        store.rate_limits,
        Action.VERIFY,
        subjects,
        clock.now(),
    )
