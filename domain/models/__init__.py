"""Tortoise ORM models: every row belongs to one tenant, directly or through its identity store.

One module per area; Tortoise finds the models here, under the app label "models"."""

from domain.models.abuse import CountryHold, RateCounter
from domain.models.flows import AuditEvent, Challenge, ChallengeStatus, SigningKey, UserSession
from domain.models.gateways import GatewayCircuit, SmsGateway
from domain.models.messages import (
    AttemptOutcome,
    DeliveryStatus,
    MessagePurpose,
    SmsAttempt,
    SmsMessage,
)
from domain.models.stores import IdentityStore, SecurityRole, StoreUser, TestPhoneNumber
from domain.models.tenants import ApiKey, Scope, Tenant

__all__ = [
    "ApiKey",
    "AttemptOutcome",
    "AuditEvent",
    "Challenge",
    "ChallengeStatus",
    "CountryHold",
    "DeliveryStatus",
    "GatewayCircuit",
    "IdentityStore",
    "MessagePurpose",
    "RateCounter",
    "Scope",
    "SecurityRole",
    "SigningKey",
    "SmsAttempt",
    "SmsGateway",
    "SmsMessage",
    "StoreUser",
    "Tenant",
    "TestPhoneNumber",
    "UserSession",
]
