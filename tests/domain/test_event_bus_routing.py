"""Routing inside one process: a subscription with a match gets only the events it matches.

Every backend hands received events to the same ``Hub``, so the in-process bus shows it; what
each subscriber's queue holds is asserted, never timing.
"""

import asyncio
import contextlib
import uuid

import pytest

from domain.bus import Subscription
from domain.bus.memory import MemoryBus


async def next_event(events: Subscription) -> dict:
    return dict(await asyncio.wait_for(anext(events), 5))


def tenant_channel() -> str:
    return f"sms:{uuid.uuid4()}"


async def test_an_event_reaches_only_its_message_subscribers_and_the_channel_wide_ones():
    bus, channel = MemoryBus(), tenant_channel()
    async with contextlib.AsyncExitStack() as stack:
        by_message = {
            message: [
                await stack.enter_async_context(bus.subscribe(channel, ("message_id", message)))
                for _ in range(3)
            ]
            for message in range(1, 101)
        }
        tenant_wide = await stack.enter_async_context(bus.subscribe(channel))
        by_gateway = await stack.enter_async_context(bus.subscribe(channel, ("gateway_id", "gw")))

        event = {"message_id": 42, "gateway_id": "gw", "status": "DELIVERED"}
        await bus.publish(channel, event)

        for subscriber in by_message[42]:
            assert subscriber.pending == 1
            assert await next_event(subscriber) == event
        others = [s for message, subs in by_message.items() if message != 42 for s in subs]
        assert [s.pending for s in others] == [0] * len(others)
        assert await next_event(tenant_wide) == event
        assert await next_event(by_gateway) == event

        await bus.publish(channel, {"message_id": 7, "gateway_id": "other", "status": "SENT"})
        assert [s.pending for s in by_message[7]] == [1, 1, 1]
        assert (tenant_wide.pending, by_gateway.pending) == (1, 0)


async def test_subscribers_share_one_read_only_event():
    bus, channel = MemoryBus(), tenant_channel()
    async with (
        bus.subscribe(channel, ("message_id", 1)) as one,
        bus.subscribe(channel, ("message_id", 1)) as two,
    ):
        published = {"message_id": 1, "status": "SENT"}
        await bus.publish(channel, published)
        first, second = await anext(one), await anext(two)
        assert first is second and first == published
        with pytest.raises(TypeError):
            first["status"] = "DELIVERED"  # type: ignore[index]
        assert second["status"] == "SENT"


async def test_a_rematched_subscription_follows_the_new_value_only():
    bus, channel = MemoryBus(), tenant_channel()
    async with bus.subscribe(channel, ("message_id", 1)) as challenge:
        moved = {"message_id": 2, "status": "QUEUED"}
        challenge.rematch(2, then=moved)  # e.g. a resend: the event that showed it comes first
        await bus.publish(channel, {"message_id": 1, "status": "DELIVERED"})
        await bus.publish(channel, {"message_id": 2, "status": "SENT"})
        assert [await next_event(challenge) for _ in range(2)] == [
            moved,
            {"message_id": 2, "status": "SENT"},
        ]
        assert challenge.pending == 0
    async with bus.subscribe(channel) as tenant_wide:
        with pytest.raises(RuntimeError):
            tenant_wide.rematch(3)


async def test_a_following_subscription_is_moved_by_the_event_that_names_the_new_value():
    bus, channel = MemoryBus(), tenant_channel()
    async with (
        bus.subscribe(channel, ("message_id", 1), follow="moved_to") as challenge,
        bus.subscribe(channel, ("message_id", 1)) as old_message,
    ):
        moved = {"message_id": 1, "moved_to": 2, "status": "QUEUED"}
        await bus.publish(channel, moved)  # a resend: message 2 carries the code now
        await bus.publish(channel, {"message_id": 2, "status": "SENDING"})  # at once after
        await bus.publish(channel, {"message_id": 1, "status": "DELIVERED"})  # the old one
        assert [await next_event(challenge) for _ in range(2)] == [
            moved,
            {"message_id": 2, "status": "SENDING"},
        ]
        assert challenge.pending == 0
        # Without ``follow`` a subscriber stays with its message.
        assert [await next_event(old_message) for _ in range(2)] == [
            moved,
            {"message_id": 1, "status": "DELIVERED"},
        ]
    with pytest.raises(ValueError):
        bus.subscribe(channel, follow="moved_to")  # only a matched subscription can follow


async def test_a_match_on_an_unhashable_value_is_refused_and_odd_events_match_nobody():
    bus, channel = MemoryBus(), tenant_channel()
    with pytest.raises(TypeError):
        bus.subscribe(channel, ("message_id", [1]))
    async with bus.subscribe(channel, ("message_id", 1)) as one:
        await bus.publish(channel, {"message_id": [1]})
        await bus.publish(channel, {"other": 1})
        await bus.publish(channel, {"message_id": 1})
        assert await next_event(one) == {"message_id": 1}
        assert one.pending == 0


async def test_leaving_removes_a_matched_subscriber_and_the_channel():
    bus, channel = MemoryBus(), tenant_channel()
    async with bus.subscribe(channel, ("message_id", 1)) as staying:
        async with bus.subscribe(channel, ("message_id", 1)) as leaving:
            leaving.rematch(5)
        await bus.publish(channel, {"message_id": 5})
        await bus.publish(channel, {"message_id": 1})
        assert await next_event(staying) == {"message_id": 1}
        assert staying.pending == 0 and leaving.pending == 0
    assert channel not in bus.channels
