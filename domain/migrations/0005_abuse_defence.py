from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_circuit_description')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CountryHold',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='country_holds', on_delete=OnDelete.CASCADE)),
                ('calling_code', fields.IntField()),
                ('held_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('released_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'country_hold', 'app': 'models', 'unique_together': (('tenant', 'calling_code'),), 'pk_attr': 'id', 'table_description': 'New sends of a tenant to one calling code are held until a time, and why.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RateCounter',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('count', fields.IntField(default=0)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_counter', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Requests counted in one fixed window of one limit, e.g. sends to one number this hour.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiKey',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='allowed_calling_codes',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='rate_limits',
            field=fields.JSONField(default=list, db_default='[]', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='velocity_factor',
            field=fields.SmallIntField(default=10, db_default=10),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='velocity_minimum',
            field=fields.IntField(default=100, db_default=100),
        ),
    ]
