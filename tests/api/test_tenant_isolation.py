"""Every query and mutation given another tenant's IDs: NOT_FOUND or null, and nothing changes."""

import pytest

from tests.api.graphql_documents import (
    CONFIGURE_SMS,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    DELETE_GATEWAY,
    DELETE_STORE,
    MESSAGES,
    REQUIREMENTS,
    SET_DEFAULT,
    SET_POLICY,
    TEST_GATEWAY,
    UPDATE_GATEWAY,
    UPDATE_STORE,
    UPSERT_USER,
)
from tests.api.otp_documents import (
    CREATE_SESSION,
    REMOVE_ENROLLMENT,
    RESEND,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
)


@pytest.fixture
async def victim(admin):
    """Acme's objects, which Globex will try to reach."""
    gw = await admin.ok(
        CREATE_GATEWAY, input={"name": "Acme GW", "type": "test", "isDefault": True}
    )
    store = await admin.ok(CREATE_STORE, name="Acme AD")
    await admin.ok(CONFIGURE_SMS, store=store["id"], input={"enabled": True})
    role = await admin.ok(CREATE_ROLE, store=store["id"], name="Staff")
    await admin.ok(SET_POLICY, role=role["id"], input={"smsEnforced": True})
    user = await admin.ok(
        UPSERT_USER, store=store["id"], input={"userId": "alice", "roles": ["Staff"]}
    )
    sms = await admin.ok(TEST_GATEWAY, id=gw["id"], phone="+447079692712")
    key = await admin.ok(
        "mutation { createApiKey(input: {scope: SERVICE}) { ... on ApiKeyCreated { id } } }"
    )
    challenge = await admin.ok(
        START_ENROLLMENT, store=store["id"], user="alice", phone="+447079692712"
    )
    return {
        "challenge": challenge["id"],
        "gateway": gw["id"],
        "store": store["id"],
        "role": role["id"],
        "user": user["id"],
        "sms": sms["id"],
        "key": key["id"],
    }


async def test_mutations_with_foreign_ids_are_not_found(other_admin, victim):
    own_gw = await other_admin.ok(CREATE_GATEWAY, input={"name": "Globex GW", "type": "test"})
    attempts = [
        (UPDATE_GATEWAY, {"id": victim["gateway"], "input": {"name": "pwned"}}),
        (SET_DEFAULT, {"id": victim["gateway"]}),
        (DELETE_GATEWAY, {"id": victim["gateway"]}),
        (TEST_GATEWAY, {"id": victim["gateway"], "phone": "+447079692712"}),
        (UPDATE_STORE, {"id": victim["store"], "name": "pwned"}),
        (DELETE_STORE, {"id": victim["store"]}),
        (CONFIGURE_SMS, {"store": victim["store"], "input": {"enabled": False}}),
        (CREATE_ROLE, {"store": victim["store"], "name": "Intruders"}),
        (SET_POLICY, {"role": victim["role"], "input": {"smsEnabled": False}}),
        (UPSERT_USER, {"store": victim["store"], "input": {"userId": "mallory"}}),
        (
            "mutation($id: ID!) { deleteSecurityRole(id: $id) { ... on UserError { code } } }",
            {"id": victim["role"]},
        ),
        (
            "mutation($id: ID!) { revokeApiKey(id: $id) { ... on UserError { code } } }",
            {"id": victim["key"]},
        ),
    ]
    own_store = await other_admin.ok(CREATE_STORE, name="Globex AD")
    attempts.append(
        (CONFIGURE_SMS, {"store": own_store["id"], "input": {"gatewayId": victim["gateway"]}})
    )
    attempts.append(
        (CONFIGURE_SMS, {"store": own_store["id"], "input": {"backupGatewayId": victim["gateway"]}})
    )
    attempts += [
        (START_ENROLLMENT, {"store": victim["store"], "user": "alice", "phone": "+447079692712"}),
        (START_AUTHENTICATION, {"store": victim["store"], "user": "alice"}),
        (VERIFY_ENROLLMENT, {"challenge": victim["challenge"], "code": "123456"}),
        (VERIFY_AUTHENTICATION, {"challenge": victim["challenge"], "code": "123456"}),
        (RESEND, {"challenge": victim["challenge"]}),
        (REMOVE_ENROLLMENT, {"store": victim["store"], "user": "alice"}),
        (CREATE_SESSION, {"store": victim["store"], "user": "alice"}),
    ]
    for document, variables in attempts:
        (result,) = (await other_admin.data(document, **variables)).values()
        assert result["code"] == "NOT_FOUND", (document, result)
    assert own_gw["name"] == "Globex GW"


async def test_queries_with_foreign_ids_find_nothing(admin, other_admin, victim):
    for kind in ("gateway", "store", "role", "user", "sms"):
        found = await other_admin.data("query($id: ID!) { node(id: $id) { id } }", id=victim[kind])
        assert found["node"] is None, kind
    assert (
        await other_admin.data(
            "query($id: ID!) { smsGateway(id: $id) { id } }", id=victim["gateway"]
        )
    )["smsGateway"] is None
    assert (
        await other_admin.data(
            "query($id: ID!) { identityStore(id: $id) { id } }", id=victim["store"]
        )
    )["identityStore"] is None
    body = await other_admin.execute(REQUIREMENTS, store=victim["store"], user="alice")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (await other_admin.data(MESSAGES))["smsMessages"]["edges"] == []
    assert (await other_admin.data(MESSAGES, gatewayId=victim["gateway"]))["smsMessages"][
        "edges"
    ] == []
    lists = await other_admin.data("{ smsGateways { id } identityStores { id } apiKeys { id } }")
    assert victim["gateway"] not in str(lists) and victim["store"] not in str(lists)
    assert victim["key"] not in str(lists)
    audit = await other_admin.data("{ auditEvents { edges { node { userId } } } }")
    assert audit["auditEvents"]["edges"] == []


async def test_foreign_attempts_change_nothing(admin, other_admin, victim):
    await test_mutations_with_foreign_ids_are_not_found(other_admin, victim)
    still = await admin.data(
        f'{{ identityStore(id: "{victim["store"]}") {{ name smsAuthentication {{ enabled }} '
        "roles { name smsEnforced } } smsGateways { name isDefault } }"
    )
    assert still["identityStore"] == {
        "name": "Acme AD",
        "smsAuthentication": {"enabled": True},
        "roles": [{"name": "Staff", "smsEnforced": True}],
    }
    assert still["smsGateways"] == [{"name": "Acme GW", "isDefault": True}]
