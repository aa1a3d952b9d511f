"""Time source: production reads the wall clock, tests inject a controllable one."""

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that only moves when told to (for tests and benchmarks)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


clock: Clock = Clock()


def set_clock(new: Clock) -> Clock:
    """Replace the process clock; returns the previous one so callers can restore it."""
    global clock
    previous, clock = clock, new
    return previous


def now() -> datetime:
    return clock.now()
