from django.db import migrations, models


def fill_hashes(apps, schema_editor):
    from triage.models import example_text_hash

    example_model = apps.get_model("triage", "LabelledExample")
    seen: set[tuple[str, str]] = set()
    duplicates = []
    for example in example_model.objects.order_by("-pk").iterator():
        key = (example.target, example_text_hash(example.text))
        if key in seen:
            duplicates.append(example.pk)  # the newest label of a text wins
            continue
        seen.add(key)
        example_model.objects.filter(pk=example.pk).update(text_hash=key[1])
    example_model.objects.filter(pk__in=duplicates).delete()


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="labelledexample",
            name="text_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(fill_hashes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="labelledexample",
            constraint=models.UniqueConstraint(
                fields=("target", "text_hash"), name="example_unique_text"
            ),
        ),
    ]
