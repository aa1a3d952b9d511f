"""The reads an OTP flow step starts with, one statement each: a user with its store, the
store's gateway, whether any of the user's roles enables SMS and the user's newest challenge; a
challenge with its user and store. Raw SQL (``domain.sql``): the ORM's joined queries cost more
to build than to run."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from domain.models import Challenge, IdentityStore, SecurityRole, SmsGateway, StoreUser
from domain.sql import Params, attach, fetch_one, from_row, select_list


@dataclass(frozen=True)
class Subject:
    """A store's user as a flow step needs it; ``user.identity_store`` is ``store``."""

    user: StoreUser
    store: IdentityStore
    gateway: SmsGateway | None  # the store's primary gateway
    sms_role: bool  # one of the user's roles enables SMS
    #: The user's newest challenge, if any: its status and when a new one may be sent.
    last_status: str | None
    last_resend_at: datetime | None


def _newest(column: str) -> str:
    """A column of the user's newest challenge, as ``"last.<column>"``."""
    return (
        f'(SELECT "{column}" FROM "{Challenge._meta.db_table}" lc WHERE lc."user_id"=u."id" '
        f'ORDER BY lc."created_at" DESC LIMIT 1) AS "last.{column}"'
    )


@cache
def _subject_head() -> str:
    roles = StoreUser._meta.fields_map["roles"]
    return (
        f"SELECT {select_list(StoreUser, 'u')},{select_list(IdentityStore, 's')},"
        f"{select_list(SmsGateway, 'g')},"
        f'EXISTS (SELECT 1 FROM "{roles.through}" ur JOIN "{SecurityRole._meta.db_table}" r '
        f'ON r."id"=ur."{roles.forward_key}" WHERE ur."{roles.backward_key}"=u."id" '
        'AND r."sms_enabled") AS "sms_role",'
        f"{_newest('status')},{_newest('resend_available_at')} "
        f'FROM "{StoreUser._meta.db_table}" u '
        f'JOIN "{IdentityStore._meta.db_table}" s ON s."id"=u."identity_store_id" '
        f'LEFT JOIN "{SmsGateway._meta.db_table}" g ON g."id"=s."sms_gateway_id" '
    )


async def subject(tenant_id: uuid.UUID, store_id: uuid.UUID, user_id: str) -> Subject | None:
    """The user ``user_id`` of the tenant's store ``store_id``, or None."""
    p = Params(StoreUser._meta.db.capabilities.dialect)
    where = (
        f'WHERE u."identity_store_id"={p(store_id)} AND s."tenant_id"={p(tenant_id)} '
        f'AND u."user_id"={p(user_id)}'
    )
    row = await fetch_one(StoreUser, _subject_head() + where, p)
    if row is None:
        return None
    user, store = from_row(StoreUser, row, "u"), from_row(IdentityStore, row, "s")
    assert user is not None and store is not None  # inner joins
    attach(user, "identity_store", store)
    resend_at = Challenge._meta.fields_map["resend_available_at"]
    return Subject(
        user,
        store,
        from_row(SmsGateway, row, "g"),
        bool(row["sms_role"]),
        row["last.status"],
        resend_at.to_python_value(row["last.resend_available_at"]),
    )


@cache
def _challenge_head() -> str:
    return (
        f"SELECT {select_list(Challenge, 'c')},{select_list(StoreUser, 'u')},"
        f"{select_list(IdentityStore, 's')} "
        f'FROM "{Challenge._meta.db_table}" c '
        f'JOIN "{StoreUser._meta.db_table}" u ON u."id"=c."user_id" '
        f'JOIN "{IdentityStore._meta.db_table}" s ON s."id"=c."identity_store_id" '
    )


async def challenge(tenant_id: uuid.UUID, challenge_id: uuid.UUID) -> Challenge | None:
    """The tenant's challenge with ``challenge.user`` and ``challenge.identity_store``, or None."""
    p = Params(Challenge._meta.db.capabilities.dialect)
    where = f'WHERE c."id"={p(challenge_id)} AND c."tenant_id"={p(tenant_id)}'
    row = await fetch_one(Challenge, _challenge_head() + where, p)
    if row is None:
        return None
    found = from_row(Challenge, row, "c")
    assert found is not None
    attach(found, "user", from_row(StoreUser, row, "u"))
    attach(found, "identity_store", from_row(IdentityStore, row, "s"))
    return found
