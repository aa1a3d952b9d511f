"""The velocity guard against SMS pumping: a sudden surge of a tenant's sends to one country
puts that country on hold.

Every send counts in an hourly bucket per tenant and calling code, in the same step as its rate
limits (``tally``). When this hour's count passes ``velocity_factor`` times the hourly average
of the previous 24 hours (and at least ``velocity_minimum``), new sends there are refused for
``HOLD`` and an audit event says why. An admin may release a hold; the guard then leaves that
country alone for the rest of the hour.

Holds are read once per ``HOLD_CACHE`` per process: another instance's hold or release takes
effect here within that time (a surge is still caught here at once, since every instance counts
in the same buckets).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from tortoise.exceptions import IntegrityError

from domain import audit, clock, metrics
from domain.auth import Principal
from domain.counters import Check, Counters
from domain.errors import NotFound, RateLimited
from domain.models import CountryHold, IdentityStore

HOLD = timedelta(hours=1)
#: How long a process trusts the holds it read (a hold another instance sets is seen within
#: this; a send that passes the threshold here holds the country at once anyway).
HOLD_CACHE = timedelta(seconds=5)
HOLD_CACHE_TENANTS = 10_000
BASELINE_HOURS = 24
#: Buckets outlive the baseline they feed.
KEEP = timedelta(hours=BASELINE_HOURS + 2)


def _bucket(tenant_id: uuid.UUID, calling_code: int, hour: datetime) -> str:
    return f"velocity:{tenant_id.hex}:{calling_code}:{hour:%Y%m%d%H}"


def tally(tenant_id: uuid.UUID, calling_code: int, now: datetime) -> Check:
    """This hour's bucket, counted with the rate limits of a send (``rate_limits.enforce``)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    return Check(_bucket(tenant_id, calling_code, hour), None, KEEP)


async def refuse_if_held(tenant_id: uuid.UUID, calling_code: int, now: datetime) -> None:
    held_until = (await _active_holds(tenant_id, now)).get(calling_code)
    if held_until is not None and held_until > now:
        metrics.refused("SEND", "COUNTRY_HOLD")
        raise RateLimited("COUNTRY", held_until, f"sends to +{calling_code} numbers are on hold")


@dataclass(frozen=True)
class Surge:
    """A send that makes this hour's sends to a country a surge, and why."""

    store: IdentityStore
    calling_code: int
    reason: str


async def surge(
    counters: Counters, store: IdentityStore, calling_code: int, now: datetime, this_hour: int
) -> Surge | None:
    """Whether ``this_hour`` sends (this one counted) are a surge; reads only, writes nothing."""
    if store.velocity_factor <= 0 or this_hour <= store.velocity_minimum:
        return None  # below the minimum nothing is a surge: no need for the baseline
    hour = now.replace(minute=0, second=0, microsecond=0)
    average = await _hourly_average(counters, store.tenant_id, calling_code, hour, now)
    threshold = max(store.velocity_minimum, store.velocity_factor * average)
    if this_hour <= threshold:
        return None
    if await CountryHold.filter(
        tenant_id=store.tenant_id, calling_code=calling_code, released_at__gte=hour
    ).exists():
        return None  # an admin released it this hour
    reason = (
        f"{this_hour} sends to +{calling_code} this hour, over {threshold:g} "
        f"({store.velocity_factor}x the hourly average of {average:.1f} over the last day, "
        f"at least {store.velocity_minimum})"
    )
    return Surge(store, calling_code, reason)


async def hold(principal: Principal, found: Surge) -> NoReturn:
    """Hold the surge's country for ``HOLD``, say why in the audit trail, refuse the send."""
    now = clock.now()
    until = now + HOLD
    store, calling_code = found.store, found.calling_code
    await _hold(store.tenant_id, calling_code, until, found.reason, now)
    await audit.record(
        principal, "SMS_COUNTRY_HOLD", "HELD", identity_store_id=store.id, detail=found.reason
    )
    metrics.refused("SEND", "COUNTRY_HOLD")
    raise RateLimited("COUNTRY", until, f"sends to +{calling_code} numbers are on hold")


async def _hourly_average(
    counters: Counters, tenant_id: uuid.UUID, calling_code: int, hour: datetime, now: datetime
) -> float:
    """The average of the 24 hours before ``hour``; those buckets are closed, so it is read
    once per hour and process."""
    if _baselines.hour != hour:
        _baselines.hour, _baselines.averages = hour, {}
    key = (tenant_id, calling_code)
    if key not in _baselines.averages:
        previous = [
            _bucket(tenant_id, calling_code, hour - timedelta(hours=h))
            for h in range(1, BASELINE_HOURS + 1)
        ]
        counts = await counters.read(previous, now)
        _baselines.averages[key] = sum(counts.values()) / BASELINE_HOURS
    return _baselines.averages[key]


@dataclass
class _Baselines:
    hour: datetime | None = None
    averages: dict[tuple[uuid.UUID, int], float] = field(default_factory=dict)


_baselines = _Baselines()


@dataclass
class _Holds:
    fetched_at: datetime
    until: dict[int, datetime]


#: Each tenant's active holds, read at most every HOLD_CACHE per process (and again at once
#: after this process holds or releases a country).
_holds: dict[uuid.UUID, _Holds] = {}


async def _active_holds(tenant_id: uuid.UUID, now: datetime) -> dict[int, datetime]:
    cached = _holds.get(tenant_id)
    if cached is None or not cached.fetched_at <= now < cached.fetched_at + HOLD_CACHE:
        rows = await CountryHold.filter(tenant_id=tenant_id, held_until__gt=now).values_list(
            "calling_code", "held_until"
        )
        if len(_holds) >= HOLD_CACHE_TENANTS:
            _holds.clear()
        cached = _holds[tenant_id] = _Holds(now, dict(rows))
    return cached.until


async def _hold(
    tenant_id: uuid.UUID, calling_code: int, until: datetime, reason: str, now: datetime
) -> None:
    values = {"held_until": until, "reason": reason, "created_at": now, "released_at": None}
    where = {"tenant_id": tenant_id, "calling_code": calling_code}
    _holds.pop(tenant_id, None)
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
    _holds.pop(principal.tenant_id, None)
    await audit.record(
        principal, "SMS_COUNTRY_RELEASE", "RELEASED", detail=f"+{calling_code} released"
    )
    return hold
