"""The app's start-up and shut-down as a host process sees them."""

import gc
import weakref

from asgi_lifespan import LifespanManager

from api import gc_policy
from api.app import create_app


async def test_start_up_objects_are_kept_out_of_collections_until_the_app_stops(settings):
    assert gc.get_freeze_count() == 0
    application = create_app(settings, manage_database=False)
    async with LifespanManager(application):
        # The schema, models and settings built at start-up are not scanned by each collection.
        assert gc.get_freeze_count() > 10_000
    # Given back on shut-down: a process that embeds the app and outlives it leaks nothing.
    assert gc.get_freeze_count() == 0


class _Cycle:
    """Stands for a subscription's objects: a reference cycle only the collector frees."""

    def __init__(self) -> None:
        self.me = self


async def test_subscriptions_are_frozen_in_batches_and_collected_once_half_have_ended(settings):
    application = create_app(settings, manage_database=False)
    async with LifespanManager(application):
        held, refs = [], []
        for _ in range(4):
            held.append(_Cycle())
            refs.append(weakref.ref(held[-1]))
            gc_policy.subscription_opened(step=4)
        held.clear()  # the four subscriptions end: their objects are garbage now
        gc.collect()
        assert all(ref() is not None for ref in refs)  # frozen: full collections skip them
        gc_policy.subscription_closed()
        assert all(ref() is not None for ref in refs)
        gc_policy.subscription_closed()  # half of those frozen are gone: collected once
        assert all(ref() is None for ref in refs)
        gc_policy.subscription_closed()
        gc_policy.subscription_closed()
