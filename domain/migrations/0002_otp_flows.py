from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.models import ChallengeStatus, MessagePurpose
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.CASCADE)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', null=True, db_constraint=True, to_field='id', related_name='audit_events', on_delete=OnDelete.SET_NULL)),
                ('user_id', fields.CharField(null=True, db_index=True, max_length=255)),
                ('action', fields.CharField(max_length=64)),
                ('outcome', fields.CharField(max_length=64)),
                ('actor', fields.CharField(max_length=100)),
                ('masked_phone_number', fields.CharField(null=True, max_length=20)),
                ('detail', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who did what to which user of which store, and the outcome (never a code or number).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Challenge',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.CASCADE)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.StoreUser', source_field='user_id', db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.CASCADE)),
                ('purpose', fields.CharEnumField(description='TEST: TEST\nENROLLMENT: ENROLLMENT\nAUTHENTICATION: AUTHENTICATION', enum_type=MessagePurpose, max_length=16)),
                ('phone_number', fields.CharField(max_length=20)),
                ('secret', fields.TextField(unique=False)),
                ('counter', fields.IntField(default=0)),
                ('code_length', fields.SmallIntField()),
                ('status', fields.CharEnumField(default=ChallengeStatus.PENDING, description='PENDING: PENDING\nVERIFIED: VERIFIED\nLOCKED: LOCKED\nSUPERSEDED: SUPERSEDED', enum_type=ChallengeStatus, max_length=16)),
                ('attempts_left', fields.SmallIntField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resend_available_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sms', fields.ForeignKeyField('models.SmsMessage', source_field='sms_id', null=True, db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'challenge', 'app': 'models', 'indexes': [Index(fields=['user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One code sent to one number: the HOTP secret and counter give its code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SigningKey',
            fields=[
                ('kid', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='signing_keys', on_delete=OnDelete.CASCADE)),
                ('private_jwk', fields.TextField(unique=False)),
                ('public_jwk', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'signing_key', 'app': 'models', 'pk_attr': 'kid', 'table_description': 'A tenant key for signing assertions, its private half encrypted at rest.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UserSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='user_sessions', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.StoreUser', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'user_session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A short-lived token for one user of one store, e.g. a mobile app enrolling directly.'},
            bases=['Model'],
        ),
    ]
