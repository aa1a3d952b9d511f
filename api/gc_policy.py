"""How the server keeps CPython's garbage collector out of the way of long-lived objects.

A full collection scans every object the collector tracks and stops the process meanwhile. Two
kinds of objects live long and need no scanning: what start-up builds (the schema, the models,
the settings) and what an open subscription holds (graphql-core's execution state, the WebSocket
handler's, its bus queue: a few hundred objects each). At thousands of subscriptions a full
collection took most of a second and stalled every event. So:

- start-up objects are frozen (``gc.freeze``) once the app has started, and given back when it
  stops, so a process that embeds the app and outlives it keeps nothing frozen;
- subscriptions are frozen in batches, each time ``FREEZE_STEP`` more have sent their first
  answer (counting them any earlier leaves what that answer built, about 45 objects each, in the
  young generations, where each young collection then scans them all); when the open ones fall
  to half of what was frozen, everything is given back, collected once (the garbage of the
  subscriptions that ended goes) and frozen again.
"""

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass

FREEZE_STEP = 500


@dataclass
class _State:
    running: bool = False
    open: int = 0  # subscriptions open now
    since: int = 0  # opened since the last freeze
    frozen: int = 0  # open at the last batch freeze (0: none frozen)


_state = _State()


def app_started() -> None:
    gc.collect()
    gc.freeze()
    _state.running = True


def app_stopped() -> None:
    gc.unfreeze()
    _state.running, _state.since, _state.frozen = False, 0, 0


@contextlib.contextmanager
def holding_subscription() -> Iterator[None]:
    """An open subscription, from once it has sent its first answer (what that built, the
    subscription keeps: frozen with it) until it ends."""
    subscription_opened()
    try:
        yield
    finally:
        subscription_closed()


def subscription_opened(step: int = FREEZE_STEP) -> None:
    _state.open += 1
    _state.since += 1
    if _state.running and _state.since >= step:
        gc.freeze()
        _state.since, _state.frozen = 0, _state.open


def subscription_closed() -> None:
    _state.open -= 1
    if _state.running and _state.frozen and _state.open <= _state.frozen // 2:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        _state.since, _state.frozen = 0, 0
