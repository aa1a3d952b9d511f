"""Another tenant walks every query, mutation and subscription with Acme's IDs: it gets NOT_FOUND
(or null, an empty page, a refusal, silence) for each, sees none of Acme's data, changes nothing.

The walk itself is the table in tenant_walk.py; the first tests here hold it to the schema, so an
operation or ID argument added later fails until the table says how another tenant is kept out.
"""

import contextlib
import uuid

import pytest
from strawberry.relay.utils import from_base64, to_base64

from api.schema import schema
from tests.api.graphql_documents import NODE, TEST_GATEWAY
from tests.api.otp_documents import DELIVERY_STATUS
from tests.api.otp_support import PHONE
from tests.api.tenant_coverage import (
    foreign_paths,
    operation_of,
    resolve,
    root_fields,
    summarize,
)
from tests.api.tenant_parties import build_attacker, build_victim, leaked, snapshot
from tests.api.tenant_walk import CALLERS, NODE_KINDS, WALK, Foreign, Scoped, steps_of
from tests.api.tenant_ws import Subscriber, answer_of, served

HOW_TO_ADD = (
    "add it to WALK in tests/api/tenant_walk.py: Foreign(document, variables with "
    "'victim:<kind>' IDs, admin=..., service=..., user=...) steps for every ID it takes, "
    "Scoped(document) if it takes no ID and answers only the caller's tenant data, or "
    "NoTenantData('why') if it touches no tenant data"
)


@pytest.fixture
async def victim(admin, http):
    return await build_victim(admin, http)


@pytest.fixture
async def attacker(other_admin, http):
    return await build_attacker(other_admin, http)


#: Kinds of Acme's objects that are not nodes, and their type names in global IDs.
NOT_NODES = {"challenge": "Challenge", "key": "ApiKey", "session": "UserSession"}


def walk_ids(victim, attacker) -> dict[str, dict[str, str]]:
    return {"victim": victim.ids, "own": attacker.ids}


# The table covers the schema ------------------------------------------------------------------


def test_every_root_field_is_in_the_walk_table():
    fields = root_fields(schema._schema)
    missing = [f"{root} is not walked: {HOW_TO_ADD}" for root in fields if root not in WALK]
    stale = [f"{root} is in WALK but not in the schema" for root in WALK if root not in fields]
    assert not missing + stale, "\n".join(missing + stale)


def test_every_id_argument_gets_a_foreign_id():
    uncovered = []
    for root, id_paths in root_fields(schema._schema).items():
        if root not in WALK:
            continue  # reported by the test above
        covered = set().union(
            *(
                foreign_paths(s.document, s.variables)
                for s in steps_of(root)
                if isinstance(s, Foreign)
            )
        )
        uncovered += [
            f"{root}({path}) takes an ID but no Foreign step passes another tenant's ID in it: "
            f"add one to WALK[{root!r}] with 'victim:<kind>' in {path}"
            for path in sorted(id_paths - covered)
        ]
    assert not uncovered, "\n".join(uncovered)


def test_every_step_runs_the_field_it_is_filed_under_and_never_expects_success():
    wrong = []
    for root in WALK:
        for step in steps_of(root):
            ran, _ = operation_of(step.document)
            if ran != root:
                wrong.append(f"a step under {root} runs {ran}")
            if isinstance(step, Foreign) and "success" in map(step.expected, CALLERS):
                wrong.append(f"a step under {root} expects another tenant to succeed")
    assert not wrong, "\n".join(wrong)


def test_every_node_type_is_walked():
    node = schema._schema.get_type("Node")
    implementations = {t.name for t in schema._schema.get_possible_types(node)}
    assert implementations == set(NODE_KINDS), "name each Node type's victim kind in NODE_KINDS"


# The walk ---------------------------------------------------------------------------------------


async def run(party, caller: str, document: str, variables: dict) -> tuple[str, str]:
    """(what the operation answered, in table words; the raw response text)."""
    client = party.client(caller)
    body = await client.execute(document, **variables)
    key = operation_of(document)[1]
    return summarize(body.get("data"), body.get("errors"), key), client.seen[-1]


async def test_another_tenants_ids_reach_nothing_and_change_nothing(victim, attacker):
    before = await snapshot(victim)
    ids, problems = walk_ids(victim, attacker), []
    http_roots = [r for r in WALK if not r.startswith("Subscription.")]
    for root in http_roots:  # the tenant-scoped ones first, before any foreign ID is echoed
        for step in (s for s in steps_of(root) if isinstance(s, Scoped)):
            got, text = await run(attacker, "admin", step.document, resolve(step.variables, ids))
            fine = (step.expect,) if step.expect else ("success", "no edges", "empty list")
            if got not in fine or leaked(victim, text):
                problems.append(f"{root} {step.variables}: {got}, leaked {leaked(victim, text)}")
    for root in http_roots:
        for step in (s for s in steps_of(root) if isinstance(s, Foreign)):
            for caller in CALLERS:
                variables = resolve(step.variables, ids)
                got, text = await run(attacker, caller, step.document, variables)
                if got != step.expected(caller) or leaked(victim, text):
                    problems.append(
                        f"{root} {step.variables} as {caller}: expected {step.expected(caller)}, "
                        f"got {got}; leaked {leaked(victim, text)}"
                    )
    assert not problems, "\n".join(problems)
    assert await snapshot(victim) == before


def status_of(frame: dict) -> str:
    return frame["payload"]["data"]["smsDeliveryStatus"]["status"]


def subscription_steps() -> list[Foreign]:
    return [
        step
        for root in WALK
        if root.startswith("Subscription.")
        for step in steps_of(root)
        if isinstance(step, Foreign)
    ]


def needs_sentinel(caller: str) -> bool:
    return any(step.expected(caller) == "silent" for step in subscription_steps())


async def subscribe_all(sub: Subscriber, caller: str, ids: dict) -> None:
    """Every subscription step on one connection (operation IDs "0", "1", ...), a sentinel on
    the caller's own stream if some must stay silent; waits for the immediate answers."""
    steps = subscription_steps()
    for n, step in enumerate(steps):
        await sub.subscribe(str(n), step.document, resolve(step.variables, ids))
    if needs_sentinel(caller):
        assert caller != "user", "a user token has no whole-tenant stream to be a sentinel"
        await sub.subscribe("sentinel", DELIVERY_STATUS, {})
    for n, step in enumerate(steps):
        if step.expected(caller) != "silent":
            await sub.until(str(n))


def subscription_problems(victim, sub: Subscriber, caller: str) -> list[str]:
    problems = []
    for n, step in enumerate(subscription_steps()):
        frame, key = sub.first(str(n)), operation_of(step.document)[1]
        got = "silent" if frame is None else summarize(*answer_of(frame), key)
        if got != step.expected(caller) or leaked(victim, str(sub.frames)):
            problems.append(f"{step.variables} as {caller}: {got}, frames {sub.frames}")
    return problems


async def test_subscriptions_with_another_tenants_ids(app, victim, attacker):
    """Refused at once, or silent while Acme's message moves from QUEUED to DELIVERED.

    Silence is bounded by a sentinel: each of Globex's connections also follows its own tenant's
    stream, and Globex sends a message only after Acme's events went out; when the sentinel's
    event arrives, nothing may have arrived before it on the silent subscriptions.
    """
    ids = walk_ids(victim, attacker)
    async with served(app) as url, contextlib.AsyncExitStack() as stack:
        watch = await stack.enter_async_context(Subscriber.connect(url, victim.service.token))
        await watch.subscribe("acme", DELIVERY_STATUS, {"messageId": victim.ids["sms"]})
        assert status_of(await watch.until("acme")) == "QUEUED"
        subscribers = {}
        for caller in CALLERS:
            token = attacker.client(caller).token
            subscribers[caller] = await stack.enter_async_context(Subscriber.connect(url, token))
            await subscribe_all(subscribers[caller], caller, ids)
        await app.state.dispatcher.drain()
        assert [status_of(await watch.until("acme")) for _ in range(2)] == ["SENDING", "DELIVERED"]
        await attacker.admin.ok(TEST_GATEWAY, id=attacker.ids["gateway"], phone=PHONE)
        problems = []
        for caller, sub in subscribers.items():
            if needs_sentinel(caller):
                await sub.until("sentinel")
            problems += subscription_problems(victim, sub, caller)
        assert not problems, "\n".join(problems)


# Node IDs ---------------------------------------------------------------------------------------


async def test_node_ids_find_only_the_callers_own_objects(victim, attacker):
    """Acme's IDs of every node type: null for Globex, just as an ID that never existed."""
    problems = []
    for type_name, kind in NODE_KINDS.items():
        found_type, pk = from_base64(victim.ids[kind])
        assert found_type == type_name
        own = (await victim.admin.data(NODE, id=victim.ids[kind]))["node"]
        assert own is not None and own["__typename"] == type_name  # the ID is real
        never = to_base64(type_name, 10**9 if pk.isdigit() else uuid.uuid4())
        for global_id in (victim.ids[kind], never):
            got, text = await run(attacker, "admin", NODE, {"id": global_id})
            if got != "null" or leaked(victim, text):
                problems.append(f"Globex asks for {type_name}:{pk}: {got}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("reader", ["victim", "attacker"])
async def test_forged_node_ids_find_nothing(victim, attacker, reader):
    """Acme's primary keys under every other type's name: null for node types, NOT_FOUND for
    types that are not nodes (challenges, API keys, user sessions, tenants), for either tenant."""
    party = {"victim": victim, "attacker": attacker}[reader]
    keys = {kind: from_base64(victim.ids[kind]) for kind in (*NODE_KINDS.values(), *NOT_NODES)}
    keys["tenant"] = ("Tenant", str(victim.tenant_id))
    problems = []
    for real_type, pk in keys.values():
        for forged_type in (*NODE_KINDS, *NOT_NODES.values(), "Tenant"):
            if forged_type == real_type:
                continue
            expected = "null" if forged_type in NODE_KINDS else "error NOT_FOUND"
            got, text = await run(party, "admin", NODE, {"id": to_base64(forged_type, pk)})
            if got != expected or (reader == "attacker" and leaked(victim, text)):
                problems.append(f"{real_type} key as {forged_type}: {got}, expected {expected}")
    assert not problems, "\n".join(problems)
