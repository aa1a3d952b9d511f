"""The velocity guard against SMS pumping: a sudden surge of a tenant's sends to one country
puts that country on hold.

Every send counts in an hourly bucket per tenant and calling code. When this hour's count passes
``velocity_factor`` times the hourly average of the previous 24 hours (and at least
``velocity_minimum``), new sends there are refused for ``HOLD`` and an audit event says why. An
admin may release a hold; the guard then leaves that country alone for the rest of the hour.
"""

import uuid
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError

from domain import audit, clock, metrics
from domain.auth import Principal
from domain.counters import Counters
from domain.errors import NotFound, RateLimited
from domain.models import CountryHold, IdentityStore

HOLD = timedelta(hours=1)
BASELINE_HOURS = 24
#: Buckets outlive the baseline they feed.
KEEP = timedelta(hours=BASELINE_HOURS + 2)


def _bucket(tenant_id: uuid.UUID, calling_code: int, hour: datetime) -> str:
    return f"velocity:{tenant_id.hex}:{calling_code}:{hour:%Y%m%d%H}"


async def refuse_if_held(tenant_id: uuid.UUID, calling_code: int, now: datetime) -> None:
    hold = await CountryHold.get_or_none(
        tenant_id=tenant_id, calling_code=calling_code, held_until__gt=now
    )
    if hold is not None:
        metrics.refused("SEND", "COUNTRY_HOLD")
        raise RateLimited(
            "COUNTRY", hold.held_until, f"sends to +{calling_code} numbers are on hold"
        )


async def count_send(
    counters: Counters,
    principal: Principal,
    store: IdentityStore,
    calling_code: int,
    now: datetime,
) -> None:
    """Count one send; raise ``RateLimited`` (and hold the country) when it is a surge."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    current = _bucket(store.tenant_id, calling_code, hour)
    await counters.add(current, now, KEEP)
    if store.velocity_factor <= 0:
        return
    previous = [
        _bucket(store.tenant_id, calling_code, hour - timedelta(hours=h))
        for h in range(1, BASELINE_HOURS + 1)
    ]
    counts = await counters.read([current, *previous], now)
    this_hour = counts.get(current, 0)
    average = sum(counts.get(key, 0) for key in previous) / BASELINE_HOURS
    threshold = max(store.velocity_minimum, store.velocity_factor * average)
    if this_hour <= threshold:
        return
    if await CountryHold.filter(
        tenant_id=store.tenant_id, calling_code=calling_code, released_at__gte=hour
    ).exists():
        return  # an admin released it this hour
    reason = (
        f"{this_hour} sends to +{calling_code} this hour, over {threshold:g} "
        f"({store.velocity_factor}x the hourly average of {average:.1f} over the last day, "
        f"at least {store.velocity_minimum})"
    )
    until = now + HOLD
    await _hold(store.tenant_id, calling_code, until, reason, now)
    await audit.record(
        principal, "SMS_COUNTRY_HOLD", "HELD", identity_store_id=store.id, detail=reason
    )
    metrics.refused("SEND", "COUNTRY_HOLD")
    raise RateLimited("COUNTRY", until, f"sends to +{calling_code} numbers are on hold")


async def _hold(
    tenant_id: uuid.UUID, calling_code: int, until: datetime, reason: str, now: datetime
) -> None:
    values = {"held_until": until, "reason": reason, "created_at": now, "released_at": None}
    where = {"tenant_id": tenant_id, "calling_code": calling_code}
    if await CountryHold.filter(**where).update(**values):
        return
    try:
        await CountryHold.create(**where, **values)
    except IntegrityError:  # a concurrent send held it first
        await CountryHold.filter(**where).update(**values)


async def active_holds(tenant_id: uuid.UUID) -> list[CountryHold]:
    return await CountryHold.filter(tenant_id=tenant_id, held_until__gt=clock.now()).order_by(
        "calling_code"
    )


async def release(principal: Principal, calling_code: int) -> CountryHold:
    """End a hold now; the guard will not hold that country again this hour."""
    now = clock.now()
    hold = await CountryHold.get_or_none(
        tenant_id=principal.tenant_id, calling_code=calling_code, held_until__gt=now
    )
    if hold is None:
        raise NotFound("country hold", field="callingCode")
    hold.held_until, hold.released_at = now, now
    await hold.save(update_fields=["held_until", "released_at"])
    await audit.record(
        principal, "SMS_COUNTRY_RELEASE", "RELEASED", detail=f"+{calling_code} released"
    )
    return hold
