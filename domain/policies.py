"""Security roles, their SMS authentication policy, store users and what a user must do."""

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from domain import clock
from domain.errors import NotFound, ValidationFailed
from domain.identity_stores import get_store
from domain.models import SecurityRole, StoreUser
from domain.names import clean_name
from domain.phone import parse_phone, require_sms_capable
from domain.unset import UNSET, is_set

MAX_USER_ID = 255
MAX_ROLES_PER_USER = 100


class SmsRequirement(StrEnum):
    REQUIRED = "REQUIRED"
    OPTIONAL = "OPTIONAL"
    UNAVAILABLE = "UNAVAILABLE"


@dataclass(frozen=True)
class Requirements:
    sms: SmsRequirement
    enrolled: bool

    @property
    def enrollment_required(self) -> bool:
        return self.sms is SmsRequirement.REQUIRED and not self.enrolled


@dataclass
class UserFields:
    user_id: Any
    roles: Any = UNSET
    phone_number: Any = UNSET
    phone_verified: Any = UNSET
    locale: Any = UNSET


async def create_role(tenant_id: uuid.UUID, store_id: uuid.UUID, name: Any) -> SecurityRole:
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    name = clean_name(name, "the role name")
    if await SecurityRole.filter(identity_store_id=store.id, name=name).exists():
        raise ValidationFailed(f"a role named {name!r} exists already", field="name")
    return await SecurityRole.create(identity_store_id=store.id, name=name)


async def get_role(tenant_id: uuid.UUID, role_id: uuid.UUID, field: str = "id") -> SecurityRole:
    role = await SecurityRole.get_or_none(id=role_id, identity_store__tenant_id=tenant_id)
    if role is None:
        raise NotFound("security role", field=field)
    return role


async def set_policy(
    tenant_id: uuid.UUID, role_id: uuid.UUID, sms_enabled: Any, sms_enforced: Any
) -> SecurityRole:
    """Enforced implies enabled: enforcing turns enabling on, disabling turns enforcing off."""
    role = await get_role(tenant_id, role_id, field="roleId")
    if is_set(sms_enabled) and sms_enabled is not None:
        role.sms_enabled = bool(sms_enabled)
        if not sms_enabled:
            role.sms_enforced = False
    if is_set(sms_enforced) and sms_enforced is not None:
        if sms_enforced and is_set(sms_enabled) and sms_enabled is False:
            raise ValidationFailed(
                "SMS cannot be enforced while it is disabled", field="smsEnforced"
            )
        role.sms_enforced = bool(sms_enforced)
        role.sms_enabled = role.sms_enabled or role.sms_enforced
    await role.save()
    return role


async def delete_role(tenant_id: uuid.UUID, role_id: uuid.UUID) -> None:
    role = await get_role(tenant_id, role_id)
    await role.delete()


async def upsert_user(tenant_id: uuid.UUID, store_id: uuid.UUID, data: UserFields) -> StoreUser:
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    user_id = data.user_id.strip() if isinstance(data.user_id, str) else ""
    if not user_id or len(user_id) > MAX_USER_ID:
        raise ValidationFailed(f"the user ID must be 1 to {MAX_USER_ID} characters", field="userId")
    roles = await _roles_by_name(store.id, data.roles) if is_set(data.roles) else None
    async with in_transaction():
        user, _ = await StoreUser.get_or_create(identity_store_id=store.id, user_id=user_id)
        if is_set(data.phone_number):
            if data.phone_number:
                phone = require_sms_capable(parse_phone(data.phone_number, store.default_region))
                if phone.e164 != user.phone_number:
                    user.phone_number, user.phone_verified_at = phone.e164, None
            else:
                user.phone_number, user.phone_verified_at = None, None
        if is_set(data.phone_verified) and data.phone_verified is not None:
            if data.phone_verified and not user.phone_number:
                raise ValidationFailed(
                    "there is no phone number to mark verified", field="phoneVerified"
                )
            user.phone_verified_at = (
                (user.phone_verified_at or clock.now()) if data.phone_verified else None
            )
        if is_set(data.locale):
            user.locale = _locale(data.locale)
        await user.save()
        if roles is not None:
            await user.roles.clear()
            if roles:
                await user.roles.add(*roles)
    return user


async def get_user(tenant_id: uuid.UUID, store_id: uuid.UUID, user_id: str) -> StoreUser | None:
    await get_store(tenant_id, store_id, field="identityStoreId")
    return await StoreUser.get_or_none(identity_store_id=store_id, user_id=user_id)


async def requirements(tenant_id: uuid.UUID, store_id: uuid.UUID, user_id: str) -> Requirements:
    """Any enforcing role makes SMS required; else any enabling role optional; else unavailable."""
    store = await get_store(tenant_id, store_id, field="identityStoreId")
    user = await StoreUser.get_or_none(identity_store_id=store.id, user_id=user_id)
    if user is None:
        return Requirements(SmsRequirement.UNAVAILABLE, enrolled=False)
    enrolled = user.phone_verified_at is not None
    if not store.sms_enabled:
        return Requirements(SmsRequirement.UNAVAILABLE, enrolled=enrolled)
    roles = await user.roles.all()
    if any(role.sms_enforced for role in roles):
        return Requirements(SmsRequirement.REQUIRED, enrolled)
    if any(role.sms_enabled for role in roles):
        return Requirements(SmsRequirement.OPTIONAL, enrolled)
    return Requirements(SmsRequirement.UNAVAILABLE, enrolled)


async def _roles_by_name(store_id: uuid.UUID, names: Any) -> list[SecurityRole]:
    if names is None:
        return []
    if not isinstance(names, list) or len(names) > MAX_ROLES_PER_USER:
        raise ValidationFailed(f"give at most {MAX_ROLES_PER_USER} role names", field="roles")
    wanted = {name.strip() for name in names if isinstance(name, str)}
    roles = await SecurityRole.filter(identity_store_id=store_id, name__in=wanted)
    unknown = sorted(wanted - {role.name for role in roles})
    if unknown:
        raise ValidationFailed(f"unknown role: {', '.join(unknown)}", field="roles")
    return list(roles)


def _locale(locale: Any) -> str | None:
    if not locale:
        return None
    text = locale.strip() if isinstance(locale, str) else ""
    parts = text.replace("_", "-").split("-")
    if not (
        2 <= len(parts[0]) <= 3
        and parts[0].isalpha()
        and len(text) <= 35
        and all(p.isalnum() and 1 <= len(p) <= 8 for p in parts)
    ):
        raise ValidationFailed("must be a language tag such as en or de-CH", field="locale")
    return "-".join(parts)
