import django.contrib.postgres.search
from django.db import migrations, models

from supportdesk.search import search_document

BATCH = 1000


def index_existing(apps, schema_editor):
    """Fill the search document of every ticket there is; on PostgreSQL, its tsvector and the
    GIN index search uses (other databases search the document itself)."""
    Ticket = apps.get_model("supportdesk", "Ticket")
    Message = apps.get_model("supportdesk", "Message")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        # Before any row changes: PostgreSQL refuses CREATE INDEX on a table whose updated rows
        # still have deferred constraint checks pending in this transaction.
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX IF NOT EXISTS ticket_search ON supportdesk_ticket USING gin (search_vector)"
            )
    last = 0
    while True:
        batch = list(
            Ticket.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "subject", "customer__name", "customer__email")[:BATCH]
        )
        if not batch:
            break
        last = batch[-1][0]
        bodies: dict[int, list[str]] = {}
        for ticket_id, body in (
            Message.objects.filter(ticket_id__in=[row[0] for row in batch], direction="in")
            .order_by("created_at", "pk")
            .values_list("ticket_id", "body_text")
        ):
            bodies.setdefault(ticket_id, []).append(body)
        for pk, subject, name, email in batch:
            document = search_document([subject, name, email, *bodies.get(pk, [])])
            Ticket.objects.filter(pk=pk).update(search_document=document)
    if postgres:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "UPDATE supportdesk_ticket SET search_vector = to_tsvector('simple', search_document)"
            )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS ticket_search")


class Migration(migrations.Migration):
    dependencies = [("supportdesk", "0017_presence_editing")]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="search_document",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.AddField(
            model_name="ticket",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(index_existing, drop_index, elidable=False),
    ]
