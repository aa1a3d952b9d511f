"""Rate limits on the OTP flows: per phone number, user, client IP, tenant and destination country.

Each limit allows ``maximum`` requests of one action (SEND: a code goes out; VERIFY: a code is
checked) in a window that starts at the first request. A store may override any default; the
TENANT and COUNTRY limits count the whole tenant's sends, each store applying its own maximum.
Counters are keyed by an HMAC of the subject, so no phone number or IP address is stored.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from domain import metrics
from domain.counters import Check, Counters, Refusal
from domain.errors import RateLimited, ValidationFailed
from domain.secret_box import SecretBox


class Action(StrEnum):
    SEND = "SEND"
    VERIFY = "VERIFY"


class LimitScope(StrEnum):
    PHONE_NUMBER = "PHONE_NUMBER"
    USER = "USER"
    CLIENT_IP = "CLIENT_IP"
    TENANT = "TENANT"
    COUNTRY = "COUNTRY"


#: What each action may be limited by (checking codes costs no SMS: no tenant or country limit).
SCOPES = {
    Action.SEND: tuple(LimitScope),
    Action.VERIFY: (LimitScope.PHONE_NUMBER, LimitScope.USER, LimitScope.CLIENT_IP),
}
MAX_WINDOW_SECONDS = 7 * 86400
MAX_MAXIMUM = 10_000_000


@dataclass(frozen=True)
class Limit:
    action: Action
    scope: LimitScope
    window_seconds: int
    maximum: int
    is_default: bool = True


HOUR, DAY = 3600, 86400

#: Safe defaults. A 6-digit code then allows at most 15 guesses an hour per number (and 60 per
#: client IP), so guessing one code takes about 7 years on average for one number.
DEFAULT_LIMITS = (
    Limit(Action.SEND, LimitScope.PHONE_NUMBER, HOUR, 5),
    Limit(Action.SEND, LimitScope.USER, HOUR, 10),
    Limit(Action.SEND, LimitScope.CLIENT_IP, HOUR, 30),
    Limit(Action.SEND, LimitScope.TENANT, HOUR, 10_000),
    Limit(Action.SEND, LimitScope.COUNTRY, HOUR, 2_000),
    Limit(Action.VERIFY, LimitScope.PHONE_NUMBER, HOUR, 15),
    Limit(Action.VERIFY, LimitScope.USER, HOUR, 15),
    Limit(Action.VERIFY, LimitScope.CLIENT_IP, HOUR, 60),
)

REFUSALS = {
    (Action.SEND, LimitScope.PHONE_NUMBER): "too many codes sent to this phone number",
    (Action.SEND, LimitScope.USER): "too many codes sent to this user",
    (Action.SEND, LimitScope.CLIENT_IP): "too many codes requested from this IP address",
    (Action.SEND, LimitScope.TENANT): "too many codes sent by this tenant",
    (Action.SEND, LimitScope.COUNTRY): "too many codes sent to numbers of this country",
    (Action.VERIFY, LimitScope.PHONE_NUMBER): "too many codes checked for this phone number",
    (Action.VERIFY, LimitScope.USER): "too many codes checked for this user",
    (Action.VERIFY, LimitScope.CLIENT_IP): "too many codes checked from this IP address",
}


def effective_limits(overrides: Sequence[dict[str, Any]] | None) -> list[Limit]:
    """The defaults, with a store's overrides in place of the defaults they name."""
    given = {
        (Action(o["action"]), LimitScope(o["scope"])): Limit(
            Action(o["action"]), LimitScope(o["scope"]), o["windowSeconds"], o["maximum"], False
        )
        for o in overrides or ()
    }
    return [given.get((d.action, d.scope), d) for d in DEFAULT_LIMITS]


def clean_overrides(raw: Any) -> list[dict[str, Any]]:
    """Validate a store's overrides (``[{action, scope, windowSeconds, maximum}]``)."""
    if not isinstance(raw, list | tuple):
        raise ValidationFailed("must be a list of limits", field="rateLimits")
    cleaned: dict[tuple[str, str], dict[str, Any]] = {}
    for index, item in enumerate(raw):
        where = f"rateLimits.{index}"
        try:
            action, scope = Action(item["action"]), LimitScope(item["scope"])
            window, maximum = item["windowSeconds"], item["maximum"]
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed(
                "give action, scope, windowSeconds and maximum", field=where
            ) from None
        if scope not in SCOPES[action]:
            raise ValidationFailed(f"{action} cannot be limited per {scope}", field=where)
        if not _whole(window, 1, MAX_WINDOW_SECONDS):
            raise ValidationFailed(
                f"must be from 1 to {MAX_WINDOW_SECONDS} seconds", field=f"{where}.windowSeconds"
            )
        if not _whole(maximum, 1, MAX_MAXIMUM):
            raise ValidationFailed(f"must be from 1 to {MAX_MAXIMUM}", field=f"{where}.maximum")
        if (action, scope) in cleaned:
            raise ValidationFailed(f"{action} per {scope} is given twice", field=where)
        cleaned[(action, scope)] = {
            "action": action.value,
            "scope": scope.value,
            "windowSeconds": window,
            "maximum": maximum,
        }
    return list(cleaned.values())


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


@dataclass(frozen=True)
class Subjects:
    """Who and what a request is about; a missing subject is not limited (e.g. no client IP)."""

    tenant_id: uuid.UUID
    phone_number: str | None = None
    user: uuid.UUID | None = None
    client_ip: str | None = None
    calling_code: int | None = None

    def of(self, scope: LimitScope) -> str | None:
        value = {
            LimitScope.PHONE_NUMBER: self.phone_number,
            LimitScope.USER: self.user,
            LimitScope.CLIENT_IP: self.client_ip,
            LimitScope.TENANT: "tenant",
            LimitScope.COUNTRY: self.calling_code,
        }[scope]
        return None if value is None else str(value)


async def enforce(
    counters: Counters,
    box: SecretBox,
    overrides: Sequence[dict[str, Any]] | None,
    action: Action,
    subjects: Subjects,
    now: datetime,
    tallies: Sequence[Check] = (),
) -> dict[str, int]:
    """Count one ``action`` against every limit, or raise ``RateLimited`` counting nothing.

    ``tallies`` (checks without a maximum) are counted in the same step; the new counts of
    everything counted come back, by key."""
    checks: dict[str, Limit] = {}
    for limit in effective_limits(overrides):
        subject = subjects.of(limit.scope)
        if limit.action != action or subject is None:
            continue
        digest = box.macs("rate-limit", f"{subjects.tenant_id}:{limit.scope}:{subject}")[0]
        checks[f"rl:{action}:{limit.scope}:{subjects.tenant_id.hex}:{digest}"] = limit
    limits = [Check(k, v.maximum, timedelta(seconds=v.window_seconds)) for k, v in checks.items()]
    result = await counters.take([*limits, *tallies], now)
    if isinstance(result, Refusal):
        limit = checks[result.check.key]
        metrics.refused(action.value, limit.scope.value)
        raise RateLimited(limit.scope.value, result.retry_at, REFUSALS[(action, limit.scope)])
    return result.counts
