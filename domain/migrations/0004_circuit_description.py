from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0003_delivery_pipeline')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='GatewayCircuit',
            options={'table': 'gateway_circuit', 'app': 'models', 'pk_attr': 'gateway_id', 'table_description': "A gateway's circuit breaker, shared by every worker: open after repeated failures."},
        ),
    ]
