"""The two tenants of the cross-tenant walk: Acme (the victim) and Globex (the attacker).

Acme owns one object of every kind the walk passes by ID, named so that any of it showing up in
Globex's answers is easy to spot (every name holds "acme"). ``snapshot`` reads all of Acme's state
with Acme's own key (and, for challenges and user sessions, which no query lists, from the
database), so the walk can prove that nothing changed.
"""

import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from strawberry.relay.utils import to_base64

from domain import clock
from domain.models import Challenge, CountryHold, UserSession
from tests.api.graphql_documents import (
    ADD_TEST_NUMBER,
    CONFIGURE_SMS,
    CREATE_API_KEY,
    CREATE_GATEWAY,
    CREATE_ROLE,
    CREATE_STORE,
    SET_POLICY,
    STORE_FIELDS,
    UPSERT_USER,
)
from tests.api.otp_documents import CREATE_SESSION, START_ENROLLMENT
from tests.api.otp_support import NEW_PHONE
from tests.api.tenant_walk import ALICE, BOB, HELD_CALLING_CODE, VICTIM_TEST_PHONE
from tests.conftest import GraphQLClient


@dataclass
class Party:
    """A tenant's clients (ADMIN key, SERVICE key, one user's session token) and its IDs."""

    tenant_id: Any
    admin: GraphQLClient
    service: GraphQLClient
    user: GraphQLClient
    ids: dict[str, str]

    def client(self, caller: str) -> GraphQLClient:
        return getattr(self, caller)


async def _tenant_base(admin: GraphQLClient, http, prefix: str, user: str) -> Party:
    """A default test gateway, a store using it (outbox sending), a role enabling SMS, a user."""
    gateway = await admin.ok(
        CREATE_GATEWAY, input={"name": f"{prefix} gateway", "type": "test", "isDefault": True}
    )
    store = await admin.ok(CREATE_STORE, name=f"{prefix} directory")
    role = await admin.ok(CREATE_ROLE, store=store["id"], name=f"{prefix.lower()}-staff")
    await admin.ok(SET_POLICY, role=role["id"], input={"smsEnforced": True})
    member = await admin.ok(
        UPSERT_USER, store=store["id"], input={"userId": user, "roles": [role["name"]]}
    )
    key = await admin.ok(
        CREATE_API_KEY, input={"scope": "SERVICE", "name": f"{prefix.lower()}-service"}
    )
    service = GraphQLClient(http, key["key"])
    session = await service.ok(CREATE_SESSION, store=store["id"], user=user)
    viewer = await admin.data("{ viewer { tenant { id } } }")
    _, tenant_pk = base64.b64decode(viewer["viewer"]["tenant"]["id"]).decode().split(":", 1)
    ids = {
        "gateway": gateway["id"],
        "store": store["id"],
        "role": role["id"],
        "user": member["id"],
        "key": key["id"],
        # The session's ID is the middle part of its token: su_<ID hex>_<secret>.
        "session": to_base64("UserSession", uuid.UUID(hex=session["token"].split("_")[1])),
    }
    return Party(tenant_pk, admin, service, GraphQLClient(http, session["token"]), ids)


async def build_victim(admin: GraphQLClient, http) -> Party:
    """Acme: a store with a primary, a backup and a spare gateway, a pending enrollment
    challenge whose SMS is still queued, an enrolled user, a live user session, a country hold."""
    victim = await _tenant_base(admin, http, "Acme", ALICE)
    backup = await admin.ok(CREATE_GATEWAY, input={"name": "Acme backup", "type": "test"})
    spare = await admin.ok(CREATE_GATEWAY, input={"name": "Acme spare", "type": "test"})
    await admin.ok(
        CONFIGURE_SMS,
        store=victim.ids["store"],
        input={
            "gatewayId": victim.ids["gateway"],
            "backupGatewayId": backup["id"],
            "enabled": True,
            "synchronousSending": False,
            # Texts a preview by another tenant would show (every leak token holds "acme").
            "textMessage": "Your acme code is [Code]",
            "textMessages": [{"locale": "de", "text": "Ihr acme-Code lautet [Code]"}],
            "testNumbersEnabled": True,
        },
    )
    await admin.ok(
        ADD_TEST_NUMBER, store=victim.ids["store"], phone=VICTIM_TEST_PHONE, code="424242"
    )
    bob = await admin.ok(
        UPSERT_USER,
        store=victim.ids["store"],
        input={
            "userId": BOB,
            "roles": ["acme-staff"],
            "phoneNumber": NEW_PHONE,
            "phoneVerified": True,
        },
    )
    challenge = await victim.service.ok(
        START_ENROLLMENT, store=victim.ids["store"], user=ALICE, phone=NEW_PHONE
    )
    assert challenge["sms"]["status"] == "QUEUED", challenge
    now = clock.now()  # a hold the velocity guard put on +33 (no query or mutation creates one)
    await CountryHold.create(
        tenant_id=victim.tenant_id,
        calling_code=HELD_CALLING_CODE,
        held_until=now + timedelta(hours=1),
        reason="acme surge",
        created_at=now,
    )
    victim.ids.update(
        backup_gateway=backup["id"],
        spare_gateway=spare["id"],
        enrolled_user=bob["id"],
        challenge=challenge["id"],
        sms=challenge["sms"]["id"],
    )
    return victim


async def build_attacker(admin: GraphQLClient, http) -> Party:
    """Globex: the same shape of tenant, with a user ``mallory`` whose session token it holds."""
    attacker = await _tenant_base(admin, http, "Globex", "mallory")
    await admin.ok(
        CONFIGURE_SMS,
        store=attacker.ids["store"],
        input={"gatewayId": attacker.ids["gateway"], "enabled": True, "synchronousSending": False},
    )
    return attacker


def leak_tokens(victim: Party) -> list[str]:
    """Strings that appear in no answer to Globex unless some of Acme's data leaked."""
    raw = [base64.b64decode(v).decode().split(":", 1)[1] for v in victim.ids.values()]
    raw = [pk for pk in raw if len(pk) == 36]  # UUIDs (a message's number is too short to spot)
    masked = NEW_PHONE[:3] + "*" * (len(NEW_PHONE) - 7) + NEW_PHONE[-4:]
    return [
        "acme",
        str(victim.tenant_id),
        masked,
        VICTIM_TEST_PHONE,
        *victim.ids.values(),
        *raw,
    ] + [r.replace("-", "") for r in raw if "-" in r]


def leaked(victim: Party, text: str) -> list[str]:
    tokens = leak_tokens(victim)
    return [t for t in tokens if t.lower() in text.lower()]


SNAPSHOT = f"""{{
  smsGateways {{ id name type isDefault enabled parameters linkedIdentityStores {{ id }} }}
  identityStores {{ {STORE_FIELDS} testPhoneNumbers {{ id phoneNumber }}
                   smsAuthentication {{ testNumbersEnabled }} }}
  apiKeys {{ id name scope revokedAt }}
  smsCountryHolds {{ callingCode heldUntil reason }}
  smsMessages(first: 100) {{ edges {{ node {{ id to status purpose gateway {{ id }} }} }} }}
  auditEvents(first: 100) {{ edges {{ node {{ action outcome actor userId identityStoreId }} }} }}
}}"""

USER_STATE = """
query($id: ID!, $store: ID!, $user: String!) {
  node(id: $id) {
    ... on IdentityStoreUser { userId maskedPhoneNumber phoneVerified phoneVerifiedAt locale
                               roles { name } }
  }
  authenticationRequirements(identityStoreId: $store, userId: $user) {
    sms enrolled enrollmentRequired
  }
}"""


async def snapshot(victim: Party) -> dict[str, Any]:
    """Acme's state through its admin key, plus challenges and sessions from the database."""
    state = await victim.admin.data(SNAPSHOT)
    for kind, user in (("user", ALICE), ("enrolled_user", BOB)):
        state[kind] = await victim.admin.data(
            USER_STATE, id=victim.ids[kind], store=victim.ids["store"], user=user
        )
    state["challenges"] = await Challenge.filter(tenant_id=victim.tenant_id).values(
        "id", "status", "counter", "attempts_left", "expires_at", "resend_available_at", "sms_id"
    )
    state["sessions"] = await UserSession.filter(tenant_id=victim.tenant_id).values(
        "id", "expires_at", "revoked_at"
    )
    return state
