"""The audit trail of user flows: one row per step, queryable by ADMIN keys."""

import uuid

from domain import clock
from domain.auth import Principal
from domain.models import AuditEvent


async def record(
    principal: Principal,
    action: str,
    outcome: str,
    *,
    identity_store_id: uuid.UUID | None = None,
    user_id: str | None = None,
    masked_phone_number: str | None = None,
    detail: str | None = None,
    test: bool = False,
) -> AuditEvent:
    """Write one event; callers pass masked numbers only, never codes; ``test`` marks a step
    for a test phone number."""
    return await AuditEvent.create(
        tenant_id=principal.tenant_id,
        identity_store_id=identity_store_id,
        user_id=user_id,
        action=action,
        outcome=outcome,
        actor=principal.actor,
        masked_phone_number=masked_phone_number,
        detail=(detail or "")[:500] or None,
        test=test,
        created_at=clock.now(),
    )


async def list_events(
    tenant_id: uuid.UUID, *, first: int, after: int | None = None, user_id: str | None = None
) -> tuple[list[AuditEvent], bool]:
    """Newest first, keyset-paginated on the ID; the page and whether more follow."""
    query = AuditEvent.filter(tenant_id=tenant_id)
    if after is not None:
        query = query.filter(id__lt=after)
    if user_id is not None:
        query = query.filter(user_id=user_id)
    rows = await query.order_by("-id").limit(first + 1)
    return rows[:first], len(rows) > first
