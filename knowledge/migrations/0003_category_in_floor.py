"""An article's category now lives in the floor app (same table, no change in the database)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('knowledge', '0002_initial'),
        ('supportdesk', '0015_taxonomy_moves_to_floor'),
    ]

    operations = [
        # The tables stay where they are; only Django's idea of which app owns them moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='article',
                    name='category',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supportdesk.category'),
                ),
            ],
        ),
    ]
