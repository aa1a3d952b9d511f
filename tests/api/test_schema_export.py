"""schema.graphql is the exported SDL, and it holds the names the contract fixes."""

import subprocess
import sys
from pathlib import Path

from api.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_equals_export_schema():
    exported = subprocess.run(
        [sys.executable, "-m", "api.cli", "export-schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert exported == schema.as_str() + "\n"
    assert (ROOT / "schema.graphql").read_text() == exported, (
        "schema.graphql is stale: run 'smsauth export-schema > schema.graphql'"
    )


def test_contract_names_are_in_the_schema():
    sdl = schema.as_str()
    for name in [
        "interface UserError",
        "interface Node",
        "  node(",
        "viewer: Viewer!",
        "smsGatewayTypes:",
        "smsGateways:",
        "smsGateway(id: ID!)",
        "identityStores:",
        "identityStore(id: ID!)",
        "authenticationRequirements(identityStoreId: ID!, userId: String!)",
        "smsMessages(",
        "createSmsGateway(input: SmsGatewayInput!)",
        "updateSmsGateway(id: ID!, input: SmsGatewayInput!)",
        "setDefaultSmsGateway(id: ID!)",
        "deleteSmsGateway(id: ID!)",
        "testSmsGateway(id: ID!, phoneNumber: String!",
        "createIdentityStore(input: IdentityStoreInput!)",
        "updateIdentityStore(id: ID!",
        "deleteIdentityStore(id: ID!)",
        "configureSmsAuthentication(identityStoreId: ID!",
        "createSecurityRole(identityStoreId: ID!",
        "setAuthenticationPolicy(roleId: ID!",
        "upsertUser(identityStoreId: ID!",
        "createApiKey(input: ApiKeyInput!)",
        "revokeApiKey(id: ID!)",
        "enum DeliveryStatus",
        "enum ApiKeyScope",
        "type Deleted",
        "backupGatewayId: ID",
        "backupSmsGateway: GatewayRef",
    ]:
        assert name in sdl, name
