from tortoise import migrations
from tortoise.migrations import operations as ops
from domain.models import AttemptOutcome
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_otp_flows')]

    initial = False

    operations = [
        ops.CreateModel(
            name='GatewayCircuit',
            fields=[
                ('gateway', fields.OneToOneField('models.SmsGateway', source_field='gateway_id', primary_key=True, db_index=True, db_constraint=True, to_field='id', related_name='circuit', on_delete=OnDelete.CASCADE)),
                ('failures', fields.IntField(default=0)),
                ('open_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'gateway_circuit', 'app': 'models', 'pk_attr': 'gateway_id', 'table_description': "A gateway's circuit breaker, shared by every worker: open after repeated failures."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.SmsMessage', source_field='message_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('gateway', fields.ForeignKeyField('models.SmsGateway', source_field='gateway_id', null=True, db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.SET_NULL)),
                ('outcome', fields.CharEnumField(description='ACCEPTED: ACCEPTED\nREJECTED: REJECTED\nUNAVAILABLE: UNAVAILABLE\nSKIPPED: SKIPPED', enum_type=AttemptOutcome, max_length=16)),
                ('detail', fields.CharField(null=True, max_length=1000)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_attempt', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One try to hand a message to a gateway, and what the gateway said.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='IdentityStore',
            name='synchronous_sending',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='attempt_count',
            field=fields.SmallIntField(default=0),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='expires_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='next_attempt_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='SmsMessage',
            name='payload',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
