"""Bearer API keys: missing, invalid, revoked, scopes, and key management."""

import uuid

import pytest

from domain.auth import KEY_CACHE
from domain.models import ApiKey, Scope
from domain.tenants import create_api_key
from tests.api.graphql_documents import CREATE_GATEWAY, CREATE_STORE, REQUIREMENTS
from tests.conftest import GraphQLClient

CREATE_KEY = """
mutation($scope: ApiKeyScope!, $name: String) {
  createApiKey(input: { scope: $scope, name: $name }) {
    ... on ApiKeyCreated { id key scope name }
    ... on UserError { code message }
  }
}"""
REVOKE_KEY = """mutation($id: ID!) {
  revokeApiKey(id: $id) { ... on Deleted { id } ... on UserError { code } }
}"""


@pytest.fixture
async def service(http, tenant):
    _, key = await create_api_key(tenant[0].id, Scope.SERVICE, "app backend")
    return GraphQLClient(http, key)


async def test_viewer_shows_tenant_and_scopes(admin, service):
    viewer = (await admin.data("{ viewer { tenant { id name } scopes } }"))["viewer"]
    assert viewer["tenant"]["name"] == "Acme" and viewer["scopes"] == ["ADMIN", "SERVICE"]
    assert (await service.data("{ viewer { scopes } }"))["viewer"]["scopes"] == ["SERVICE"]


@pytest.mark.parametrize(
    "token", [None, "", "garbage", "sa_nothex_secret", "sa_00000000000000000000000000000000_x"]
)
async def test_missing_or_invalid_token_is_unauthenticated(http, token):
    client = GraphQLClient(http, token)
    for document in (
        "{ viewer { scopes } }",
        "{ smsGateways { id } }",
        'mutation { createIdentityStore(input: {name: "x"}) { __typename } }',
    ):
        body = await client.execute(document)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_tampered_secret_is_unauthenticated(http, tenant):
    key = tenant[1]
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")  # same key ID, wrong secret
    body = await GraphQLClient(http, tampered).execute("{ viewer { scopes } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_non_bearer_scheme_is_unauthenticated(http, tenant):
    response = await http.post(
        "/graphql",
        json={"query": "{ viewer { scopes } }"},
        headers={"Authorization": f"Basic {tenant[1]}"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_service_key_cannot_configure(service):
    result = await service.data(CREATE_GATEWAY, input={"name": "x", "type": "test"})
    assert result["createSmsGateway"]["__typename"] == "ForbiddenError"
    assert result["createSmsGateway"]["code"] == "FORBIDDEN"
    body = await service.execute("{ smsGateways { id } }")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_service_key_reads_requirements(admin, service):
    store = await admin.ok(CREATE_STORE, name="Corp")
    found = await service.data(REQUIREMENTS, store=store["id"], user="alice")
    assert found["authenticationRequirements"]["sms"] == "UNAVAILABLE"
    types = await service.data("{ smsGatewayTypes { key } }")
    assert types["smsGatewayTypes"]


async def test_created_key_works_once_shown_and_revoked_key_stops(http, admin):
    created = await admin.ok(CREATE_KEY, scope="SERVICE", name="mobile backend")
    assert created["scope"] == "SERVICE" and created["name"] == "mobile backend"
    new = GraphQLClient(http, created["key"])
    assert (await new.data("{ viewer { scopes } }"))["viewer"]["scopes"] == ["SERVICE"]
    listed = (await admin.data("{ apiKeys { id name scope revokedAt } }"))["apiKeys"]
    assert created["id"] in [k["id"] for k in listed]
    assert created["key"] not in admin.seen[-1]  # the key itself is never listed
    assert (await admin.ok(REVOKE_KEY, id=created["id"])) == {"id": created["id"]}
    body = await new.execute("{ viewer { scopes } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in body["errors"][0]["message"]
    again = (await admin.data(REVOKE_KEY, id=created["id"]))["revokeApiKey"]
    assert again["code"] == "NOT_FOUND"


async def test_a_key_revoked_by_another_instance_stops_within_seconds(http, admin, frozen_clock):
    created = await admin.ok(CREATE_KEY, scope="SERVICE", name="mobile backend")
    key = GraphQLClient(http, created["key"])
    assert (await key.data("{ viewer { scopes } }"))["viewer"]["scopes"] == ["SERVICE"]
    key_id = uuid.UUID(hex=created["key"].split("_")[1])
    # Another instance revokes it: this one learns of it when its read of the key runs out.
    await ApiKey.filter(id=key_id).update(revoked_at=frozen_clock.now())
    frozen_clock.advance(seconds=KEY_CACHE.total_seconds())
    body = await key.execute("{ viewer { scopes } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in body["errors"][0]["message"]


async def test_service_key_cannot_mint_keys(service):
    result = (await service.data(CREATE_KEY, scope="ADMIN"))["createApiKey"]
    assert result["code"] == "FORBIDDEN"


async def test_api_keys_are_stored_hashed(admin):
    from domain.models import ApiKey

    created = await admin.ok(CREATE_KEY, scope="ADMIN")
    secret = created["key"].split("_", 2)[2]
    rows = [repr(row.__dict__) for row in await ApiKey.all()]
    assert all(secret not in row for row in rows)
