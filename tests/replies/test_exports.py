"""Exporting people's decisions on drafts: which decisions, filtered how, in which shape, with
no personal data, from the command line and from the admin."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.models import FeedbackEvent
from feedback.services import follow_up_record, rating_comment_add, rating_record
from replies.autosend import auto_send_user
from replies.exports import ExportFilters, decisions_for_export, export_lines
from replies.models import Draft
from replies.services import draft_escalate, draft_send, reply_send_manual
from supportdesk.models import Message
from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    DraftFactory,
    MessageFactory,
    TicketFactory,
    TriageResultFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NAME, EMAIL, ORDER = "Maria Garcia", "maria.garcia@example.org", "A-99812"
SECRETS = (NAME, "Garcia", EMAIL, ORDER)


def _draft(*, language="en", category="delivery", customer=None, n=0) -> Draft:
    customer = customer or CustomerFactory(name=NAME, email=EMAIL)
    ticket = TicketFactory(
        customer=customer, subject=f"Order #{ORDER} has not arrived", language=language
    )
    message = MessageFactory(
        ticket=ticket,
        body_text=f"Hi, this is {NAME} ({EMAIL}). My order #{ORDER} has not arrived ({n}).",
    )
    TriageResultFactory(message=message, category=category, language=language)
    return DraftFactory(
        in_reply_to=message,
        language=language,
        text=f"Hi {NAME},\n\nYour order #{ORDER} is on its way.\n\nBest regards,",
    )


@pytest.fixture
def decided(agent):
    """One decision of each outcome, each on its own ticket."""
    accepted = _draft()
    draft_send(draft_id=accepted.pk, actor=agent)
    edited = _draft(language="zh-Hant", category="billing")
    draft_send(draft_id=edited.pk, actor=agent, text=f"{NAME}您好：訂單 #{ORDER} 已出貨。")
    escalated = _draft()
    Draft.objects.filter(pk=escalated.pk).update(text="The escalated draft.")
    draft_escalate(draft_id=escalated.pk, actor=agent, reason=f"{NAME} asks for a manager")
    set_aside = _draft(category="billing")
    reply_send_manual(
        ticket_id=set_aside.ticket_id, actor=agent, text=f"Dear {NAME}, we refunded {ORDER}."
    )
    auto = _draft()
    Draft.objects.filter(pk=auto.pk).update(text="The automatic reply.")
    draft_send(draft_id=auto.pk, actor=auto_send_user())
    return {
        "accepted": accepted,
        "edited": edited,
        "escalated": escalated,
        "manual": set_aside,
        "auto": auto,
    }


def _export(format="eval", **filters) -> list[dict]:
    lines = export_lines(decisions_for_export(filters=ExportFilters(**filters)), format=format)
    return [json.loads(line) for line in lines]


def test_every_outcome_is_exported_once_with_its_draft_and_reply(decided):
    rows = {row["outcome"]: row for row in _export()}

    assert sorted(rows) == ["accepted", "auto", "edited", "escalated", "manual"]
    assert rows["accepted"]["id"] == f"draft-{decided['accepted'].pk}"
    assert rows["accepted"]["edit_distance"] == 0 and rows["accepted"]["diff"] == ""
    assert rows["edited"]["sent"].endswith("已出貨。") and rows["edited"]["edit_distance"] > 0
    assert rows["edited"]["diff"].startswith("--- draft\n+++ sent")
    assert rows["escalated"]["sent"] is None
    assert rows["escalated"]["note"] == "<NAME_1> asks for a manager"
    # The manual reply keeps the draft it set aside, for comparison.
    manual = rows["manual"]
    assert manual["id"].startswith("reply-")
    assert manual["draft"].startswith("Hi <NAME_1>,") and manual["sent"].startswith("Dear ")
    assert rows["manual"]["labels"]["category"] == "billing"
    assert rows["edited"]["labels"]["language"] == "zh-Hant"


def test_a_name_an_address_and_an_order_number_never_leave(decided, agent):
    agent.first_name, agent.last_name = "Alice", "Walker"
    agent.save()
    for format in ("eval", "finetune"):
        text = json.dumps(_export(format), ensure_ascii=False)
        for secret in (*SECRETS, "Alice Walker"):
            assert secret not in text, (format, secret)
        assert "<ORDER_1>" in text and "<NAME_1>" in text


def test_the_fine_tuning_file_holds_only_replies_a_person_approved_edited_or_wrote(decided):
    examples = _export("finetune")

    assert len(examples) == 3
    for example in examples:
        messages = example["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant"]
        assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages)
    replies = sorted(e["messages"][2]["content"].splitlines()[0] for e in examples)
    assert replies == [
        "<NAME_1>您好：訂單 #<ORDER_1> 已出貨。",  # edited
        "Dear <NAME_1>, we refunded <ORDER_1>.",  # written by hand
        "Hi <NAME_1>,",  # sent as proposed; neither the escalated draft nor the automatic reply
    ]
    chinese = next(e for e in examples if "zh-Hant" in e["messages"][0]["content"])
    assert "Language: zh-Hant" in chinese["messages"][1]["content"]


@pytest.mark.parametrize(
    ("filters", "outcomes"),
    [
        ({"outcome": "edited"}, ["edited"]),
        ({"outcome": "manual"}, ["manual"]),
        ({"outcome": "auto"}, ["auto"]),
        ({"outcome": "accepted"}, ["accepted"]),
        ({"category": "billing"}, ["edited", "manual"]),
        ({"language": "zh"}, ["edited"]),
        ({"language": "en", "outcome": "escalated"}, ["escalated"]),
    ],
)
def test_filters(decided, filters, outcomes):
    assert sorted(row["outcome"] for row in _export(**filters)) == outcomes


def test_dates_bound_the_decisions_by_day(decided):
    old = timezone.now() - timedelta(days=10)
    FeedbackEvent.objects.filter(draft=decided["edited"]).update(created_at=old)
    Message.objects.filter(ticket=decided["manual"].ticket).update(created_at=old)
    today, then = timezone.localdate(), timezone.localtime(old).date()

    recent = {row["outcome"] for row in _export(since=today)}
    earlier = {row["outcome"] for row in _export(until=then)}
    that_day = {row["outcome"] for row in _export(since=then, until=then)}

    assert recent == {"accepted", "escalated", "auto"}
    assert earlier == that_day == {"edited", "manual"}


def test_a_further_reply_after_a_sent_draft_is_not_a_second_answer(agent):
    draft = _draft()
    draft_send(draft_id=draft.pk, actor=agent)
    reply_send_manual(ticket_id=draft.ticket_id, actor=agent, text="One more thing: …")

    assert [row["outcome"] for row in _export()] == ["accepted"]


def test_a_reply_on_a_ticket_the_ai_never_triaged_takes_the_tickets_labels(agent):
    category = CategoryFactory(slug="returns")
    ticket = TicketFactory(category=category, language="de", needs_manual_triage=True)
    MessageFactory(ticket=ticket, body_text="Wo ist mein Paket?")
    reply_send_manual(ticket_id=ticket.pk, actor=agent, text="Es ist unterwegs.")

    (row,) = _export(category="returns", language="de")

    assert (row["outcome"], row["draft"], row["labels"]["category"]) == ("manual", None, "returns")


def test_the_queries_do_not_grow_with_the_decisions(agent):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _export()
        return len(captured)

    for _ in range(2):
        draft_send(draft_id=_draft().pk, actor=agent)
        reply_send_manual(ticket_id=_draft().ticket_id, actor=agent, text="By hand")
    few = queries()
    for n in range(6):
        customer = CustomerFactory(name=f"Customer {n}", is_vip=True)
        draft_send(draft_id=_draft(customer=customer).pk, actor=agent, text="Edited")
        reply_send_manual(ticket_id=_draft(customer=customer).ticket_id, actor=agent, text="Hi")
    assert queries() == few


def test_what_followed_each_decision_is_exported_with_it(agent):
    # An edit for its tone, rated good with a comment; the customer wrote again after the solve.
    edited = _draft()
    reply = draft_send(
        draft_id=edited.pk, actor=agent, text="Hello, your parcel ships today.", reason="tone"
    )
    rating_record(message_id=reply.pk, score="good")
    rating_comment_add(message_id=reply.pk, comment=f"Quick and kind, thanks! {NAME}")
    again = MessageFactory(ticket=edited.ticket, body_text="It did not arrive.", reopened=True)
    assert follow_up_record(message_id=again.pk) is not None
    # An automatic reply a person took over.
    auto = _draft()
    sent = draft_send(draft_id=auto.pk, actor=auto_send_user(), automatic=True)
    Message.objects.filter(pk=sent.pk).update(automatic=True)
    reply_send_manual(ticket_id=auto.ticket_id, actor=agent, text="Let me look into this myself.")
    # A reply written by hand, rated not good.
    manual = reply_send_manual(ticket_id=_draft().ticket_id, actor=agent, text="Refunded.")
    rating_record(message_id=manual.pk, score="bad")
    # Sent as proposed, and nothing followed.
    draft_send(draft_id=_draft().pk, actor=agent)

    rows = {row["outcome"]: row for row in _export()}

    assert sorted(rows) == ["accepted", "auto", "edited", "manual"]
    followed = {
        outcome: (row["edit_reason"], row["rating"], row["follow_ups"], row["taken_over"])
        for outcome, row in rows.items()
    }
    assert followed == {
        "edited": ("tone", {"score": "good", "comment": "Quick and kind, thanks! <NAME_1>"}, 1,
                   False),
        "auto": ("", None, 0, True),
        "manual": ("", {"score": "bad", "comment": ""}, 0, False),
        "accepted": ("", None, 0, False),
    }  # fmt: skip
    # The fine-tuning file is unchanged by what followed.
    assert all(set(e) == {"messages"} for e in _export("finetune"))


# -- the command --------------------------------------------------------------------------------


def test_the_command_writes_an_evaluation_set_and_prints_the_count(decided, tmp_path):
    target = tmp_path / "eval.jsonl"
    out = io.StringIO()

    call_command("export_feedback", "--format", "eval", "--output", str(target), stdout=out)

    lines = target.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["outcome"] for line in lines)
    assert "5 evaluation rows from 5 decisions" in out.getvalue()
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


def test_the_command_writes_fine_tuning_lines_to_stdout_and_the_count_to_stderr(decided):
    CategoryFactory(slug="billing")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "export_feedback", "--format", "finetune", "--output", "-", "--category", "billing",
        stdout=out, stderr=err,
    )  # fmt: skip

    examples = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(examples) == 2
    assert all(
        [m["role"] for m in e["messages"]] == ["system", "user", "assistant"] for e in examples
    )
    assert "2 fine-tuning examples from 2 decisions" in err.getvalue()


def test_an_empty_export_writes_an_empty_file(db, tmp_path):
    target = tmp_path / "empty.jsonl"
    out = io.StringIO()

    call_command("export_feedback", "--format=finetune", f"--output={target}", stdout=out)

    assert target.read_text() == ""
    assert "0 fine-tuning examples from 0 decisions" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--format=csv", "--output=-"], "--format"),
        (["--format=eval"], "--output"),
        (["--format=eval", "--output=-", "--since=2025-13-01"], "--since '2025-13-01'"),
        (["--format=eval", "--output=-", "--until=yesterday"], "--until 'yesterday'"),
        (["--format=eval", "--output=-", "--since=2025-05-02", "--until=2025-05-01"], "after"),
        (["--format=eval", "--output=-", "--category=nope"], "--category 'nope'"),
        (["--format=eval", "--output=-", "--language=english!"], "--language"),
        (["--format=eval", "--output=-", "--outcome=rejected"], "--outcome"),
        (["--format=eval", "--output=/no/such/folder/x.jsonl"], "/no/such/folder"),
    ],
)
def test_bad_arguments_name_the_problem(db, arguments, problem):
    with pytest.raises(CommandError, match=problem.replace("(", r"\(")):
        call_command("export_feedback", *arguments, stdout=io.StringIO())


# -- the admin action ---------------------------------------------------------------------------


def _download(client, action: str, drafts) -> tuple[str, str]:
    response = client.post(
        reverse("admin:replies_draft_changelist"),
        {"action": action, "_selected_action": [d.pk for d in drafts]},
    )
    assert response.status_code == 200 and response.streaming
    content = b"".join(response).decode()
    return response["Content-Disposition"], content


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume asynchronous iterators")
def test_the_admin_downloads_the_selected_decisions(decided, desk_admin_client):
    chosen = [decided["edited"], decided["escalated"], decided["manual"]]

    disposition, content = _download(desk_admin_client, "export_evaluation_set", chosen)

    assert disposition.startswith('attachment; filename="feedback-evaluation-')
    rows = [json.loads(line) for line in content.splitlines()]
    assert sorted(r["outcome"] for r in rows) == ["edited", "escalated", "manual"]
    assert not any(secret in content for secret in SECRETS)

    disposition, content = _download(desk_admin_client, "export_finetuning_file", chosen)
    examples = [json.loads(line) for line in content.splitlines()]
    assert len(examples) == 2 and "feedback-finetune-" in disposition


def test_people_without_access_to_drafts_get_no_export(decided, roles):
    from django.test import Client

    client = Client()
    client.force_login(UserFactory(username="noadmin", is_staff=True, role="agent"))
    response = client.post(
        reverse("admin:replies_draft_changelist"),
        {"action": "export_evaluation_set", "_selected_action": [decided["edited"].pk]},
    )
    assert response.status_code == 403
