"""SMS gateway accounts and their shared circuit breakers."""

from tortoise import fields
from tortoise.models import Model

from domain.models.tenants import Tenant


class SmsGateway(Model):
    id = fields.UUIDField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="sms_gateways", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    type = fields.CharField(max_length=64)
    url = fields.CharField(max_length=2000, null=True)
    account_id = fields.CharField(max_length=500, null=True)
    username = fields.CharField(max_length=500, null=True)
    sender_id = fields.CharField(max_length=100, null=True)
    signature = fields.CharField(max_length=200, null=True)
    description = fields.TextField(null=True)
    enabled = fields.BooleanField(default=True)
    is_default = fields.BooleanField(default=False)
    check_ssl = fields.BooleanField(default=True)
    timeout_seconds = fields.FloatField(default=10.0)
    parameters = fields.JSONField(default=dict)
    extension_parameters = fields.JSONField(default=dict)
    proxy = fields.JSONField(null=True)
    # Fernet token of {"password", "proxy_password", "parameters": {...}}; never leaves domain/.
    secrets = fields.TextField(null=True)
    # Which secrets are set ("password", "proxy.password", "parameters.NAME"); no key needed.
    secret_names = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sms_gateway"
        unique_together = (("tenant", "name"),)


class GatewayCircuit(Model):
    """A gateway's circuit breaker, shared by every worker: open after repeated failures."""

    gateway: fields.OneToOneRelation[SmsGateway] = fields.OneToOneField(
        "models.SmsGateway", related_name="circuit", on_delete=fields.CASCADE, primary_key=True
    )
    failures = fields.IntField(default=0)
    open_until = fields.DatetimeField(null=True)

    class Meta:
        table = "gateway_circuit"
