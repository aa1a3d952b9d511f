"""Abuse defence state: rate-limit counters (when no Redis is configured) and country holds."""

from tortoise import fields
from tortoise.models import Model

from domain.models.tenants import Tenant


class RateCounter(Model):
    """Requests counted in one fixed window of one limit, e.g. sends to one number this hour."""

    key = fields.CharField(max_length=255, primary_key=True)
    count = fields.IntField(default=0)
    expires_at = fields.DatetimeField(index=True)

    class Meta:
        table = "rate_counter"


class CountryHold(Model):
    """New sends of a tenant to one calling code are held until a time, and why."""

    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="country_holds", on_delete=fields.CASCADE
    )
    calling_code = fields.IntField()
    held_until = fields.DatetimeField()
    reason = fields.CharField(max_length=500)
    created_at = fields.DatetimeField()
    # An admin released the hold: the guard does not hold the country again in that hour.
    released_at = fields.DatetimeField(null=True)

    class Meta:
        table = "country_hold"
        unique_together = (("tenant", "calling_code"),)
