"""The walk table: how every root field of the schema is tried by another tenant.

Each root field (``"Query.smsGateway"``) maps to its steps, or to ``NoTenantData``. A ``Foreign``
step passes the victim's IDs (``"victim:<kind>"``, kinds in ``tenant_parties.Victim.ids``; the
attacker's own objects are ``"own:<kind>"``) and says what each caller of the other tenant gets:
its ADMIN key, its SERVICE key and a user session token (``su_…``) of one of its users. Answers
are written as ``tenant_coverage.summarize`` words: ``NOT_FOUND`` / ``FORBIDDEN`` (union member
codes), ``error NOT_FOUND`` (a GraphQL error), ``null``, ``no edges``; subscriptions add
``silent`` (no event while the victim's message changes status). A ``Scoped`` step takes no ID:
the other tenant's admin runs it and sees none of the victim's data.

A new root field, or a new ID argument or input field, fails test_tenant_isolation.py until a
step here passes another tenant's ID in it.
"""

from dataclasses import dataclass, field
from typing import Any

from tests.api.graphql_documents import (
    ADD_TEST_NUMBER,
    API_KEYS,
    CONFIGURE_SMS,
    COUNTRY_HOLDS,
    CREATE_API_KEY,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    DELETE_GATEWAY,
    DELETE_ROLE,
    DELETE_STORE,
    GATEWAY_BY_ID,
    GATEWAY_TYPES,
    GATEWAYS,
    MESSAGES,
    NODE,
    RELEASE_HOLD,
    REMOVE_TEST_NUMBER,
    REQUIREMENTS,
    REVOKE_API_KEY,
    SET_DEFAULT,
    SET_POLICY,
    STORE_BY_ID,
    STORES,
    TEST_GATEWAY,
    UPDATE_GATEWAY,
    UPDATE_STORE,
    UPSERT_USER,
    VIEWER,
)
from tests.api.otp_documents import (
    AUDIT,
    CREATE_SESSION,
    DELIVERY_STATUS,
    REMOVE_ENROLLMENT,
    RESEND,
    REVOKE_SESSION,
    START_AUTHENTICATION,
    START_ENROLLMENT,
    VERIFY_AUTHENTICATION,
    VERIFY_ENROLLMENT,
)
from tests.api.otp_support import PHONE

CALLERS = ("admin", "service", "user")

PREVIEW_TEXT = """
query($store: ID!, $locale: String, $phone: String) {
  previewSmsText(identityStoreId: $store, locale: $locale, phoneNumber: $phone) {
    text locale encoding characters segments
  }
}"""


@dataclass(frozen=True)
class Foreign:
    """The victim's IDs in the variables; what each caller of the other tenant answers."""

    document: str
    variables: dict[str, Any]
    admin: str
    service: str
    user: str

    def expected(self, caller: str) -> str:
        return getattr(self, caller)


@dataclass(frozen=True)
class Scoped:
    """No ID to pass: the other tenant's admin runs it and gets only its own data; ``expect``
    pins the answer where the victim has something the other tenant has not."""

    document: str
    variables: dict[str, Any] = field(default_factory=dict)
    expect: str | None = None


@dataclass(frozen=True)
class NoTenantData:
    """Touches no tenant's data at all; the reason says why."""

    reason: str


#: Admin operations: another tenant's admin gets NOT_FOUND; its other keys are refused first.
ADMIN_OP = {"admin": "NOT_FOUND", "service": "FORBIDDEN", "user": "FORBIDDEN"}
#: Admin lookups by ID: null for another tenant's admin, refused for its other keys.
ADMIN_LOOKUP = {"admin": "null", "service": "error FORBIDDEN", "user": "error FORBIDDEN"}
#: User flows naming a store and user: a user token is refused before anything is looked up.
BY_STORE = {"admin": "NOT_FOUND", "service": "NOT_FOUND", "user": "FORBIDDEN"}
#: User flows naming a challenge: the challenge is looked up in the caller's tenant first.
BY_CHALLENGE = {"admin": "NOT_FOUND", "service": "NOT_FOUND", "user": "NOT_FOUND"}

#: Node types and the victim's object of each kind.
NODE_KINDS = {
    "SmsGateway": "gateway",
    "IdentityStore": "store",
    "SecurityRole": "role",
    "IdentityStoreUser": "user",
    "SmsMessage": "sms",
}

ALICE, BOB = "acme-alice", "acme-bob"
HELD_CALLING_CODE = 33
VICTIM_TEST_PHONE = "+447700123488"  # the victim's test number (code 424242)
CODE = {"code": "123456"}

WALK: dict[str, tuple[Foreign | Scoped, ...] | NoTenantData] = {
    # Queries
    "Query.node": tuple(
        Foreign(NODE, {"id": f"victim:{k}"}, **ADMIN_LOOKUP) for k in NODE_KINDS.values()
    ),
    "Query.viewer": (Scoped(VIEWER),),
    "Query.smsGatewayTypes": (Scoped(GATEWAY_TYPES),),
    "Query.smsGateways": (Scoped(GATEWAYS),),
    "Query.smsGateway": (Foreign(GATEWAY_BY_ID, {"id": "victim:gateway"}, **ADMIN_LOOKUP),),
    "Query.identityStores": (Scoped(STORES),),
    "Query.smsCountryHolds": (Scoped(COUNTRY_HOLDS, expect="empty list"),),
    "Query.identityStore": (Foreign(STORE_BY_ID, {"id": "victim:store"}, **ADMIN_LOOKUP),),
    "Query.authenticationRequirements": (
        Foreign(
            REQUIREMENTS,
            {"store": "victim:store", "user": ALICE},
            admin="error NOT_FOUND",
            service="error NOT_FOUND",
            user="error FORBIDDEN",
        ),
    ),
    "Query.previewSmsText": (
        Foreign(
            PREVIEW_TEXT,
            {"store": "victim:store", "locale": "de", "phone": PHONE},
            admin="error NOT_FOUND",
            service="error FORBIDDEN",
            user="error FORBIDDEN",
        ),
    ),
    "Query.smsMessages": (
        Scoped(MESSAGES),
        Foreign(
            MESSAGES,
            {"gatewayId": "victim:gateway"},
            admin="no edges",
            service="error FORBIDDEN",
            user="error FORBIDDEN",
        ),
    ),
    "Query.auditEvents": (Scoped(AUDIT), Scoped(AUDIT, {"user": ALICE})),
    "Query.apiKeys": (Scoped(API_KEYS),),
    # Mutations
    "Mutation.createSmsGateway": (
        Scoped(
            CREATE_GATEWAY, {"input": {"name": "Globex extra", "type": "test", "isDefault": True}}
        ),
    ),
    "Mutation.updateSmsGateway": (
        Foreign(UPDATE_GATEWAY, {"id": "victim:gateway", "input": {"name": "pwned"}}, **ADMIN_OP),
    ),
    "Mutation.setDefaultSmsGateway": (
        Foreign(SET_DEFAULT, {"id": "victim:backup_gateway"}, **ADMIN_OP),
    ),
    "Mutation.deleteSmsGateway": (
        Foreign(DELETE_GATEWAY, {"id": "victim:spare_gateway"}, **ADMIN_OP),
    ),
    "Mutation.testSmsGateway": (
        Foreign(TEST_GATEWAY, {"id": "victim:gateway", "phone": PHONE}, **ADMIN_OP),
    ),
    "Mutation.createIdentityStore": (Scoped(CREATE_STORE, {"name": "Globex extra"}),),
    "Mutation.updateIdentityStore": (
        Foreign(UPDATE_STORE, {"id": "victim:store", "name": "pwned"}, **ADMIN_OP),
    ),
    "Mutation.deleteIdentityStore": (Foreign(DELETE_STORE, {"id": "victim:store"}, **ADMIN_OP),),
    "Mutation.configureSmsAuthentication": (
        Foreign(CONFIGURE_SMS, {"store": "victim:store", "input": {"enabled": False}}, **ADMIN_OP),
        Foreign(
            CONFIGURE_SMS,
            {"store": "own:store", "input": {"gatewayId": "victim:gateway"}},
            **ADMIN_OP,
        ),
        Foreign(
            CONFIGURE_SMS,
            {"store": "own:store", "input": {"backupGatewayId": "victim:gateway"}},
            **ADMIN_OP,
        ),
    ),
    "Mutation.addTestPhoneNumber": (
        Foreign(
            ADD_TEST_NUMBER,
            {"store": "victim:store", "phone": VICTIM_TEST_PHONE, "code": "111111"},
            **ADMIN_OP,
        ),
    ),
    "Mutation.removeTestPhoneNumber": (
        Foreign(
            REMOVE_TEST_NUMBER, {"store": "victim:store", "phone": VICTIM_TEST_PHONE}, **ADMIN_OP
        ),
    ),
    "Mutation.createSecurityRole": (
        Foreign(CREATE_ROLE, {"store": "victim:store", "name": "intruders"}, **ADMIN_OP),
    ),
    "Mutation.setAuthenticationPolicy": (
        Foreign(SET_POLICY, {"role": "victim:role", "input": {"smsEnabled": False}}, **ADMIN_OP),
    ),
    "Mutation.deleteSecurityRole": (Foreign(DELETE_ROLE, {"id": "victim:role"}, **ADMIN_OP),),
    "Mutation.upsertUser": (
        Foreign(
            UPSERT_USER,
            {"store": "victim:store", "input": {"userId": ALICE, "phoneNumber": PHONE}},
            **ADMIN_OP,
        ),
        Foreign(UPSERT_USER, {"store": "victim:store", "input": {"userId": "mallory"}}, **ADMIN_OP),
    ),
    "Mutation.createApiKey": (
        Scoped(CREATE_API_KEY, {"input": {"scope": "ADMIN", "name": "globex-extra"}}),
    ),
    "Mutation.revokeApiKey": (Foreign(REVOKE_API_KEY, {"id": "victim:key"}, **ADMIN_OP),),
    "Mutation.startSmsEnrollment": (
        Foreign(
            START_ENROLLMENT, {"store": "victim:store", "user": BOB, "phone": PHONE}, **BY_STORE
        ),
    ),
    "Mutation.verifySmsEnrollment": (
        Foreign(VERIFY_ENROLLMENT, {"challenge": "victim:challenge", **CODE}, **BY_CHALLENGE),
    ),
    "Mutation.startSmsAuthentication": (
        Foreign(START_AUTHENTICATION, {"store": "victim:store", "user": BOB}, **BY_STORE),
    ),
    "Mutation.verifySmsAuthentication": (
        Foreign(VERIFY_AUTHENTICATION, {"challenge": "victim:challenge", **CODE}, **BY_CHALLENGE),
    ),
    "Mutation.resendSmsCode": (Foreign(RESEND, {"challenge": "victim:challenge"}, **BY_CHALLENGE),),
    "Mutation.removeSmsEnrollment": (
        Foreign(REMOVE_ENROLLMENT, {"store": "victim:store", "user": BOB}, **BY_STORE),
    ),
    "Mutation.revokeUserSession": (
        Foreign(
            REVOKE_SESSION,
            {"id": "victim:session"},
            admin="NOT_FOUND",
            service="NOT_FOUND",
            user="FORBIDDEN",  # a user token may revoke only itself
        ),
    ),
    "Mutation.releaseSmsCountryHold": (  # takes a calling code: the victim holds +33
        Scoped(RELEASE_HOLD, {"code": HELD_CALLING_CODE}, expect="NOT_FOUND"),
    ),
    "Mutation.createUserSession": (
        Foreign(
            CREATE_SESSION,
            {"store": "victim:store", "user": ALICE},
            admin="NOT_FOUND",
            service="NOT_FOUND",
            user="FORBIDDEN",  # a user token may not mint tokens at all
        ),
    ),
    # Subscriptions (walked over a WebSocket); their errors carry extensions.code as over HTTP.
    "Subscription.smsDeliveryStatus": (
        Foreign(
            DELIVERY_STATUS,
            {"messageId": "victim:sms"},
            admin="error NOT_FOUND",
            service="error NOT_FOUND",
            user="error FORBIDDEN",
        ),
        Foreign(
            DELIVERY_STATUS,
            {"challengeId": "victim:challenge"},
            admin="error NOT_FOUND",
            service="error NOT_FOUND",
            user="error NOT_FOUND",
        ),
        Foreign(
            DELIVERY_STATUS,
            {"gatewayId": "victim:gateway"},
            admin="silent",  # the stream is the caller's own tenant's: the filter matches nothing
            service="silent",
            user="error FORBIDDEN",
        ),
    ),
}


def steps_of(root: str) -> tuple[Foreign | Scoped, ...]:
    entry = WALK[root]
    return () if isinstance(entry, NoTenantData) else entry
