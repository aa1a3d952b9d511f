"""smsDeliveryStatus: current status first, then live changes; tenants and user tokens see only
their own. Executed through the schema with the app's runtime (the WebSocket transport itself is
exercised against real servers in test_subscriptions_across_servers.py)."""

import asyncio
import contextlib

import pytest

from api.context import Context
from api.schema import schema
from tests.api.otp_documents import CREATE_SESSION, RESEND, START_ENROLLMENT
from tests.api.otp_support import PHONE, result

SUBSCRIBE = """subscription($m: ID, $c: ID, $g: ID) {
  smsDeliveryStatus(messageId: $m, challengeId: $c, gatewayId: $g) {
    message { id status } status at detail } }"""


@contextlib.asynccontextmanager
async def subscribed(app, token: str, **variables):
    context = Context(request=None, response=None, runtime=app.state.runtime)
    await context.authenticate(token)
    stream = await schema.subscribe(SUBSCRIBE, variable_values=variables, context_value=context)
    try:
        yield stream
    finally:
        await stream.aclose()


async def next_event(stream, seconds: float = 10.0) -> dict:
    item = await asyncio.wait_for(anext(stream), seconds)
    assert not item.errors, item.errors
    return item.data["smsDeliveryStatus"]


@pytest.fixture
async def queued_store(setup, app):
    from tests.api.graphql_documents import CONFIGURE_SMS

    await setup.admin.ok(CONFIGURE_SMS, store=setup.store, input={"synchronousSending": False})
    setup.drain = app.state.dispatcher.drain
    return setup


async def test_message_subscription_starts_with_the_current_status(queued_store, app):
    s = queued_store
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    async with subscribed(app, s.service.token, m=challenge["sms"]["id"]) as stream:
        first = await next_event(stream)
        assert first["status"] == "QUEUED" and first["message"]["id"] == challenge["sms"]["id"]
        await s.drain()
        assert [(await next_event(stream))["status"] for _ in range(2)] == ["SENDING", "SENT"]


async def test_challenge_subscription_with_a_user_token(queued_store, app):
    s = queued_store
    session = await result(s.service, CREATE_SESSION, store=s.store, user="alice")
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    async with subscribed(app, session["token"], c=challenge["id"]) as stream:
        assert (await next_event(stream))["status"] == "QUEUED"
        await s.drain()
        assert (await next_event(stream))["status"] == "SENDING"
    bob = await result(s.service, START_ENROLLMENT, store=s.store, user="bob", phone=PHONE)
    async with subscribed(app, session["token"], c=bob["id"]) as stream:
        item = await asyncio.wait_for(anext(stream), 10)
        assert item.errors and item.errors[0].extensions["code"] == "FORBIDDEN"
    async with subscribed(app, session["token"]) as stream:  # everything: not for a user token
        item = await asyncio.wait_for(anext(stream), 10)
        assert item.errors[0].extensions["code"] == "FORBIDDEN"


async def test_a_challenge_subscription_follows_the_resent_message(queued_store, app, frozen_clock):
    s = queued_store
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    first_sms = challenge["sms"]["id"]
    token = s.service.token
    async with (
        subscribed(app, token, c=challenge["id"]) as follows_challenge,
        subscribed(app, token, m=first_sms) as follows_first,
    ):
        assert (await next_event(follows_challenge))["message"]["id"] == first_sms
        assert (await next_event(follows_first))["status"] == "QUEUED"
        await s.drain()
        for stream in (follows_challenge, follows_first):
            assert [(await next_event(stream))["status"] for _ in range(2)] == ["SENDING", "SENT"]
        frozen_clock.advance(seconds=30)
        resent = await result(s.service, RESEND, challenge=challenge["id"])
        second_sms = resent["sms"]["id"]
        assert second_sms != first_sms
        await s.drain()
        seen = []
        while not seen or seen[-1]["status"] != "SENT":
            seen.append(await next_event(follows_challenge))
        assert {event["message"]["id"] for event in seen} == {second_sms}
        statuses = [event["status"] for event in seen]
        assert statuses in (["QUEUED", "SENDING", "SENT"], ["SENDING", "SENT"])  # QUEUED: racy
        waiting = asyncio.ensure_future(anext(follows_first))  # the old message has no news
        done, _ = await asyncio.wait({waiting}, timeout=0.2)
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await waiting
        assert not done


async def test_another_tenant_sees_none_of_it(queued_store, app, other_admin):
    s = queued_store
    async with subscribed(app, other_admin.token) as stream:
        waiting = asyncio.ensure_future(anext(stream))
        await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
        await s.drain()
        done, _ = await asyncio.wait({waiting}, timeout=0.5)  # bounded: nothing may arrive
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await waiting
        assert not done


async def test_foreign_message_id_is_not_found(queued_store, app, other_admin):
    s = queued_store
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    async with subscribed(app, other_admin.token, m=challenge["sms"]["id"]) as stream:
        item = await asyncio.wait_for(anext(stream), 10)
        assert item.errors[0].extensions["code"] == "NOT_FOUND"


async def first_errors(app, token: str, **variables) -> list:
    async with subscribed(app, token, **variables) as stream:
        item = await asyncio.wait_for(anext(stream), 10)
    return [error.formatted for error in item.errors]


async def test_subscription_errors_carry_their_code(queued_store, app):
    errors = await first_errors(app, queued_store.service.token, m="U21zTWVzc2FnZTo5OTk=")
    assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"], errors


async def test_an_unexpected_failure_in_a_subscription_is_masked(
    queued_store, app, monkeypatch, caplog
):
    import api.subscriptions

    async def broken(*args, **kwargs):
        raise RuntimeError("secret-xyz in the database URL")

    monkeypatch.setattr(api.subscriptions, "_current", broken)
    s = queued_store
    challenge = await result(s.service, START_ENROLLMENT, store=s.store, user="alice", phone=PHONE)
    (error,) = await first_errors(app, s.service.token, m=challenge["sms"]["id"])
    assert error["extensions"]["code"] == "INTERNAL" and "secret-xyz" not in str(error)
    assert error["extensions"]["errorId"] in caplog.text
