"""Category, Team, BusinessHours and Holiday move from triage to the floor (supportdesk).

Their tables keep their names (triage_*), so no row moves; content types and with them the
permissions granted on these models follow to the new app label."""

import datetime
import django.db.models.deletion
import supportdesk.models
from django.conf import settings
from django.db import migrations, models


MOVED = ("category", "team", "businesshours", "holiday")


def _relabel(apps, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if content_type.objects.filter(app_label=old, model=model).exists():
            # A stale type under the new label (from an earlier run) would clash: drop it.
            content_type.objects.filter(app_label=new, model=model).delete()
            content_type.objects.filter(app_label=old, model=model).update(app_label=new)


def forwards(apps, schema_editor) -> None:
    _relabel(apps, "triage", "supportdesk")


def backwards(apps, schema_editor) -> None:
    _relabel(apps, "supportdesk", "triage")


class Migration(migrations.Migration):

    dependencies = [
        ('supportdesk', '0014_message_pipeline_state'),
        ('triage', '0010_business_hours'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables stay where they are; only Django's idea of which app owns them moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BusinessHours',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80)),
                        ('timezone', models.CharField(default='UTC', help_text='IANA name, e.g. Europe/Berlin, Asia/Tokyo, America/Mexico_City.', max_length=64, validators=[supportdesk.models.validate_timezone], verbose_name='time zone')),
                        ('days', models.CharField(default='01234', help_text='Working weekdays (0 = Monday … 6 = Sunday).', max_length=7)),
                        ('opens', models.TimeField(default=datetime.time(9, 0))),
                        ('closes', models.TimeField(default=datetime.time(17, 0))),
                    ],
                    options={
                        'verbose_name': 'business hours',
                        'verbose_name_plural': 'business hours',
                        'db_table': 'triage_businesshours',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Category',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(max_length=60, unique=True)),
                        ('name', models.CharField(max_length=120)),
                        ('description', models.TextField(blank=True)),
                        ('routine', models.BooleanField(default=False, help_text='Calm customers asking this may get an automatic reply.')),
                        ('auto_send', models.BooleanField(default=False, help_text='Drafts for this category may be sent without a person when a routing rule says auto-send and every guardrail passes.')),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'verbose_name_plural': 'categories',
                        'db_table': 'triage_category',
                        'ordering': ['name'],
                    },
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='sla_hours',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supportdesk.businesshours'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='category',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supportdesk.category'),
                ),
                migrations.CreateModel(
                    name='Team',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True)),
                        ('languages', models.JSONField(blank=True, default=list)),
                        ('strategy', models.CharField(choices=[('round_robin', 'Round robin'), ('least_loaded', 'Least loaded')], default='round_robin', max_length=12)),
                        ('active', models.BooleanField(default=True)),
                        ('categories', models.ManyToManyField(blank=True, db_table='triage_team_categories', related_name='teams', to='supportdesk.category')),
                        ('last_assigned', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('members', models.ManyToManyField(blank=True, db_table='triage_team_members', related_name='teams', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'triage_team',
                        'ordering': ['name'],
                    },
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='waiting_team',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='supportdesk.team'),
                ),
                migrations.CreateModel(
                    name='Holiday',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('date', models.DateField()),
                        ('name', models.CharField(blank=True, max_length=80)),
                        ('schedule', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='supportdesk.businesshours')),
                    ],
                    options={
                        'db_table': 'triage_holiday',
                        'ordering': ['date'],
                        'constraints': [models.UniqueConstraint(fields=('schedule', 'date'), name='holiday_once_per_day')],
                    },
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
