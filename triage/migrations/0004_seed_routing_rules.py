from django.conf import settings
from django.db import migrations

SEED = [
    dict(
        position=10,
        name="VIP, angry or urgent: alert a supervisor",
        match="any",
        vip=True,
        emotions=["angry"],
        min_emotion_confidence=0.5,
        urgencies=["high"],
        action="supervisor",
    ),
    dict(
        position=20,
        name="Complex, unclear or upset: a human agent",
        match="any",
        out_of_scope=True,
        category_routine=False,
        confidence_below=None,  # LOW_CONFIDENCE at install time
        repeat_contact=True,
        emotions=["angry", "anxious", "sad"],
        needs_human=True,
        action="human",
    ),
    dict(
        position=30,
        name="Routine question, calm customer: draft for one-click approval",
        match="all",
        category_routine=True,
        emotions=["confused", "neutral", "positive"],
        action="auto_reply",
    ),
]


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("triage", "RoutingRule")
    if RoutingRule.objects.exists():
        return
    for fields in SEED:
        if fields["name"].startswith("Complex"):
            fields = {**fields, "confidence_below": settings.LOW_CONFIDENCE}
        RoutingRule.objects.create(**fields)


class Migration(migrations.Migration):
    dependencies = [("triage", "0003_routing_rules")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
