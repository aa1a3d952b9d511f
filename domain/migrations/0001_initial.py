from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from domain.models import DeliveryStatus, MessagePurpose, Scope
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Tenant',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tenant', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ApiKey',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='api_keys', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('scope', fields.CharEnumField(description='ADMIN: ADMIN\nSERVICE: SERVICE', enum_type=Scope, max_length=16)),
                ('secret_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_key', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsGateway',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='sms_gateways', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('type', fields.CharField(max_length=64)),
                ('url', fields.CharField(null=True, max_length=2000)),
                ('account_id', fields.CharField(null=True, max_length=500)),
                ('username', fields.CharField(null=True, max_length=500)),
                ('sender_id', fields.CharField(null=True, max_length=100)),
                ('signature', fields.CharField(null=True, max_length=200)),
                ('description', fields.TextField(null=True, unique=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('is_default', fields.BooleanField(default=False)),
                ('check_ssl', fields.BooleanField(default=True)),
                ('timeout_seconds', fields.FloatField(default=10.0)),
                ('parameters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('extension_parameters', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('proxy', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('secrets', fields.TextField(null=True, unique=False)),
                ('secret_names', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sms_gateway', 'app': 'models', 'unique_together': (('tenant', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='IdentityStore',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='identity_stores', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('sms_gateway', fields.ForeignKeyField('models.SmsGateway', source_field='sms_gateway_id', null=True, db_constraint=True, to_field='id', related_name='identity_stores', on_delete=OnDelete.RESTRICT)),
                ('backup_sms_gateway', fields.ForeignKeyField('models.SmsGateway', source_field='backup_sms_gateway_id', null=True, db_constraint=True, to_field='id', related_name='backup_for_stores', on_delete=OnDelete.RESTRICT)),
                ('sms_enabled', fields.BooleanField(default=False)),
                ('text_message', fields.CharField(default='Your verification code is [Code]', max_length=1000)),
                ('code_length', fields.SmallIntField(default=6)),
                ('code_ttl_seconds', fields.IntField(default=300)),
                ('max_attempts', fields.SmallIntField(default=3)),
                ('resend_cooldown_seconds', fields.IntField(default=30)),
                ('default_region', fields.CharField(null=True, max_length=2)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'identity_store', 'app': 'models', 'unique_together': (('tenant', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecurityRole',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', db_constraint=True, to_field='id', related_name='roles', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('sms_enabled', fields.BooleanField(default=False)),
                ('sms_enforced', fields.BooleanField(default=False)),
            ],
            options={'table': 'security_role', 'app': 'models', 'unique_together': (('identity_store', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='sms_messages', on_delete=OnDelete.CASCADE)),
                ('gateway', fields.ForeignKeyField('models.SmsGateway', source_field='gateway_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('purpose', fields.CharEnumField(description='TEST: TEST\nENROLLMENT: ENROLLMENT\nAUTHENTICATION: AUTHENTICATION', enum_type=MessagePurpose, max_length=16)),
                ('to_number', fields.CharField(max_length=20)),
                ('status', fields.CharEnumField(default=DeliveryStatus.QUEUED, description='QUEUED: QUEUED\nSENDING: SENDING\nSENT: SENT\nDELIVERED: DELIVERED\nUNDELIVERED: UNDELIVERED\nFAILED: FAILED\nEXPIRED: EXPIRED', enum_type=DeliveryStatus, max_length=16)),
                ('encoding', fields.CharField(max_length=8)),
                ('segments', fields.SmallIntField()),
                ('provider_message_id', fields.CharField(null=True, max_length=200)),
                ('error_detail', fields.CharField(null=True, max_length=1000)),
                ('text', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_message', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StoreUser',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', db_constraint=True, to_field='id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.CharField(max_length=255)),
                ('phone_number', fields.CharField(null=True, max_length=20)),
                ('phone_verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('locale', fields.CharField(null=True, max_length=35)),
                ('roles', fields.ManyToManyField('models.SecurityRole', unique=True, db_constraint=True, through='store_user_role', forward_key='securityrole_id', backward_key='store_user_id', related_name='users', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'store_user', 'app': 'models', 'unique_together': (('identity_store', 'user_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
