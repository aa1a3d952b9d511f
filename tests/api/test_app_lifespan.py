"""The app's start-up and shut-down as a host process sees them."""

import gc

from asgi_lifespan import LifespanManager

from api.app import create_app


async def test_start_up_objects_are_kept_out_of_collections_until_the_app_stops(settings):
    assert gc.get_freeze_count() == 0
    application = create_app(settings, manage_database=False)
    async with LifespanManager(application):
        # The schema, models and settings built at start-up are not scanned by each collection.
        assert gc.get_freeze_count() > 10_000
    # Given back on shut-down: a process that embeds the app and outlives it leaks nothing.
    assert gc.get_freeze_count() == 0
