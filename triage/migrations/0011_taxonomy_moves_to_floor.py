"""Triage gives Category, Team, BusinessHours and Holiday to the floor app (their tables stay)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('knowledge', '0003_category_in_floor'),
        ('supportdesk', '0015_taxonomy_moves_to_floor'),
        ('triage', '0010_business_hours'),
    ]

    operations = [
        # The tables stay where they are; only Django's idea of which app owns them moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='slapolicy',
                    name='business_hours',
                    field=models.ForeignKey(blank=True, help_text='Count only these hours toward the targets. Empty: around the clock.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='supportdesk.businesshours'),
                ),
                migrations.RemoveField(
                    model_name='holiday',
                    name='schedule',
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='categories',
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='last_assigned',
                ),
                migrations.RemoveField(
                    model_name='team',
                    name='members',
                ),
                migrations.AlterField(
                    model_name='routingrule',
                    name='assign_team',
                    field=models.ForeignKey(blank=True, help_text='An online member of this team gets the ticket.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supportdesk.team'),
                ),
                migrations.AlterField(
                    model_name='routingrule',
                    name='categories',
                    field=models.ManyToManyField(blank=True, related_name='+', to='supportdesk.category'),
                ),
                migrations.DeleteModel(
                    name='BusinessHours',
                ),
                migrations.DeleteModel(
                    name='Holiday',
                ),
                migrations.DeleteModel(
                    name='Category',
                ),
                migrations.DeleteModel(
                    name='Team',
                ),
            ],
        ),
    ]
