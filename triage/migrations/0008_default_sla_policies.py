from django.db import migrations

DEFAULTS = [
    ("High urgency", "high", "", 60, 8 * 60),
    ("Medium urgency", "medium", "", 4 * 60, 24 * 60),
    ("Low urgency", "low", "", 8 * 60, 72 * 60),
    ("Enterprise", "", "enterprise", 60, 12 * 60),
    ("Enterprise, high urgency", "high", "enterprise", 15, 4 * 60),
]


def seed(apps, schema_editor):
    SlaPolicy = apps.get_model("triage", "SlaPolicy")
    if SlaPolicy.objects.exists():
        return
    for name, urgency, plan, first, resolution in DEFAULTS:
        SlaPolicy.objects.create(
            name=name,
            urgency=urgency,
            plan=plan,
            first_response_minutes=first,
            resolution_minutes=resolution,
        )


class Migration(migrations.Migration):
    dependencies = [("triage", "0007_sla_policies")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
