from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_localized_texts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TestPhoneNumber',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('identity_store', fields.ForeignKeyField('models.IdentityStore', source_field='identity_store_id', db_constraint=True, to_field='id', related_name='test_numbers', on_delete=OnDelete.CASCADE)),
                ('phone_number', fields.CharField(max_length=20)),
                ('code_hash', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'test_phone_number', 'app': 'models', 'unique_together': (('identity_store', 'phone_number'),), 'pk_attr': 'id', 'table_description': 'A number of a store whose flows send nothing and take a fixed code (for CI, app review).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditEvent',
            name='test',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Challenge',
            name='test',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='sandbox',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='test_number_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='test_numbers_enabled',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='test',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
