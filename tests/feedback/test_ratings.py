"""Customer ratings: every reply e-mail carries one signed link per score; following one shows
a page that records the rating only when it is submitted (a link scanner's GET records
nothing); the first rating stands; agents see it on the ticket."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import Rating
from feedback.services import rating_comment_add, rating_record
from replies.services import draft_send
from supportdesk.models import Message
from supportdesk.outbox.rating_links import (
    SCORES,
    RatingLinkExpired,
    RatingLinkInvalid,
    rating_token,
    rating_token_read,
    rating_url,
)
from supportdesk.tasks import deliver_message
from tests.factories import DraftFactory, MessageFactory, TicketFactory
from tests.mailbox import FOOTER_START, written
from tests.supportdesk.test_content_security import Page, assert_strict

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


def _reply(ticket=None, **fields) -> Message:
    return MessageFactory(
        ticket=ticket or TicketFactory(),
        direction=Message.Direction.OUTBOUND,
        body_text="Your parcel arrives on Friday.",
        delivery_status=Message.Delivery.QUEUED,
        **fields,
    )


def _links(body: str) -> dict[str, str]:
    """The rating links of a reply e-mail, by score, as paths the test client can open."""
    paths = [urlsplit(url).path for url in re.findall(r"https?://\S+/rate/\S+/", body)]
    return {rating_token_read(path.split("/")[2])[1]: path for path in paths}


def _signed_days_ago(monkeypatch, days: float, **token) -> str:
    now = time.time()
    with monkeypatch.context() as past:
        past.setattr(time, "time", lambda: now - days * DAY)
        return rating_token(**token)


# -- the links -----------------------------------------------------------------------------------


def test_a_token_names_the_message_and_the_score():
    token = rating_token(message_id=42, score="okay")

    assert rating_token_read(token) == (42, "okay")


def test_the_model_stores_the_scores_the_links_offer():
    assert tuple(Rating.Score.values) == SCORES


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        # Another message's id, with the signature of the original:
        "WzQzLCJnb29kIl0" + rating_token(message_id=42, score="good")[15:],
        # Signed by this installation, for something else:
        signing.dumps([42, "good"], salt="another.purpose"),
        # Signed as a rating token, but no score we offer:
        signing.dumps([42, "great"], salt="supportdesk.rating-link"),
    ],
)
def test_a_tampered_or_foreign_token_is_refused(token):
    with pytest.raises(RatingLinkInvalid):
        rating_token_read(token)


def test_a_token_expires_after_the_configured_days(monkeypatch, settings):
    settings.CSAT_LINK_DAYS = 30
    fresh = _signed_days_ago(monkeypatch, 29, message_id=42, score="good")
    stale = _signed_days_ago(monkeypatch, 31, message_id=42, score="good")

    assert rating_token_read(fresh) == (42, "good")
    with pytest.raises(RatingLinkExpired):
        rating_token_read(stale)


def test_every_reply_email_ends_with_one_absolute_link_per_score(settings):
    settings.SITE_URL = "https://help.example.com"
    reply = _reply()

    deliver_message(reply.pk)

    (sent,) = mail.outbox
    assert written(sent) == "Your parcel arrives on Friday."
    footer = sent.body.split(FOOTER_START)[1]
    assert footer.startswith("How did we do?")
    urls = re.findall(r"\S+/rate/\S+/", footer)
    assert len(urls) == 3 and all(u.startswith("https://help.example.com/rate/") for u in urls)
    assert {rating_token_read(u.split("/")[4]) for u in urls} == {
        (reply.pk, score) for score in SCORES
    }
    reply.refresh_from_db()
    assert reply.body_text == "Your parcel arrives on Friday."  # the thread keeps what was written


def test_a_japanese_customers_reply_has_the_japanese_footer():
    reply = _reply(TicketFactory(language="ja"))

    deliver_message(reply.pk)

    footer = mail.outbox[0].body.split(FOOTER_START)[1]
    assert "今回の回答はいかがでしたでしょうか" in footer
    assert re.search(r"良い：\S+/rate/", footer) and re.search(r"良くない：\S+/rate/", footer)


def test_a_german_customers_reply_has_the_german_footer():
    reply = _reply(TicketFactory(language="de"))

    deliver_message(reply.pk)

    assert "Wie hilfreich war unsere Antwort?" in mail.outbox[0].body


def test_the_footer_can_be_switched_off(settings):
    settings.CSAT_LINKS = False
    reply = _reply()

    deliver_message(reply.pk)

    assert mail.outbox[0].body == "Your parcel arrives on Friday."


# -- the pages -----------------------------------------------------------------------------------


def test_following_a_link_records_nothing_until_the_page_is_submitted(client):
    reply = _reply()
    path = reverse("rating", args=[rating_token(message_id=reply.pk, score="good")])

    page = client.get(path)  # what a mail link scanner does

    assert page.status_code == 200
    assert not Rating.objects.exists()
    html = page.content.decode()
    assert f'<form method="post" action="{path}" id="rating-form"' in html
    assert "Send my rating" in html  # the button, for a browser that runs no script
    assert page["Cache-Control"].startswith("max-age=0")


def test_the_rating_page_keeps_the_content_security_policy(client):
    reply = _reply()
    path = reverse("rating", args=[rating_token(message_id=reply.pk, score="good")])

    response = client.get(path)

    assert_strict(response)
    inline = [code for _attrs, code in Page(response.content.decode()).scripts if code.strip()]
    assert any("requestSubmit" in code for code in inline)


def test_submitting_records_the_rating_once_and_the_first_stands(client):
    reply = _reply()
    good = reverse("rating", args=[rating_token(message_id=reply.pk, score="good")])
    bad = reverse("rating", args=[rating_token(message_id=reply.pk, score="bad")])

    first = client.post(good)
    again = client.post(good)
    other = client.post(bad)
    revisit = client.get(bad)

    assert "Thank you for your rating" in first.content.decode()
    rating = Rating.objects.get()
    assert (rating.message, rating.ticket, rating.score) == (reply, reply.ticket, "good")
    for later in (again, other, revisit):
        assert later.status_code == 200
        assert "Your rating was already recorded" in later.content.decode()
        assert "<strong>Good</strong>" in later.content.decode()
    assert Rating.objects.count() == 1


def test_a_tampered_link_gets_a_400_page_and_records_nothing(client):
    reply = _reply()
    token = rating_token(message_id=reply.pk, score="good")
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    for response in (
        client.get(reverse("rating", args=[tampered])),
        client.post(reverse("rating", args=[tampered])),
    ):
        assert response.status_code == 400
        assert "This rating link does not work" in response.content.decode()
    assert not Rating.objects.exists()


def test_an_expired_link_gets_a_410_page_and_records_nothing(client, monkeypatch):
    reply = _reply()
    token = _signed_days_ago(monkeypatch, 31, message_id=reply.pk, score="good")

    response = client.post(reverse("rating", args=[token]))

    assert response.status_code == 410
    assert "This rating link has expired" in response.content.decode()
    assert not Rating.objects.exists()


def test_a_link_to_a_message_that_is_not_a_reply_records_nothing(client):
    inbound = MessageFactory()

    response = client.post(
        reverse("rating", args=[rating_token(message_id=inbound.pk, score="good")])
    )

    assert response.status_code == 410
    assert not Rating.objects.exists()


def test_the_customer_may_add_one_comment(client):
    reply = _reply()
    token = rating_token(message_id=reply.pk, score="bad")
    client.post(reverse("rating", args=[token]))

    added = client.post(reverse("rating-comment", args=[token]), {"comment": "  Too slow.  "})
    second = client.post(reverse("rating-comment", args=[token]), {"comment": "Changed my mind"})

    assert "Thank you for your comment" in added.content.decode()
    assert "Your rating was already recorded" in second.content.decode()
    assert Rating.objects.get().comment == "Too slow."


def test_a_comment_before_any_rating_leads_to_the_rating_page(client):
    reply = _reply()
    token = rating_token(message_id=reply.pk, score="okay")

    response = client.post(reverse("rating-comment", args=[token]), {"comment": "Hi"})

    assert response.status_code == 302 and response["Location"] == reverse("rating", args=[token])
    assert not Rating.objects.exists()


def test_the_page_speaks_the_customers_language_not_the_browsers(client):
    reply = _reply(TicketFactory(language="ja"))
    path = reverse("rating", args=[rating_token(message_id=reply.pk, score="good")])

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    done = client.post(path, HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="ja">' in page
    assert "評価を送信する" in page  # "Send my rating"
    assert done["Content-Language"] == "ja"
    assert "ご評価いただき、ありがとうございます" in done.content.decode()


def test_without_a_page_language_for_the_ticket_the_browser_decides(client):
    reply = _reply(TicketFactory(language="de"))
    path = reverse("rating", args=[rating_token(message_id=reply.pk, score="good")])

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert '<html lang="es">' in page


# -- what the rating is tied to ------------------------------------------------------------------


def test_a_rating_names_the_draft_the_reply_was_sent_from(
    agent, client, django_capture_on_commit_callbacks
):
    draft = DraftFactory()
    with django_capture_on_commit_callbacks(execute=True):
        outbound = draft_send(draft_id=draft.pk, actor=agent)

    client.post(_links(mail.outbox[0].body)["okay"])

    rating = Rating.objects.get()
    assert (rating.message, rating.draft, rating.score) == (outbound, draft, "okay")


def test_a_reply_written_by_hand_is_rated_without_a_draft():
    reply = _reply()

    rating, created = rating_record(message_id=reply.pk, score="good")

    assert created and rating.draft is None


def test_a_comment_without_a_rating_is_not_stored():
    reply = _reply()

    assert rating_comment_add(message_id=reply.pk, comment="Hello") == (None, False)


# -- agents see it -------------------------------------------------------------------------------


def test_the_ticket_page_shows_the_rating_and_comment_on_the_reply(agent_client):
    reply = _reply()
    rating_record(message_id=reply.pk, score="bad")
    rating_comment_add(message_id=reply.pk, comment="It <b>still</b> has not arrived")

    page = agent_client.get(reverse("ticket", args=[reply.ticket_id])).content.decode()

    article = page.split(f'id="message-{reply.pk}"')[1].split("</article>")[0]
    assert 'class="chip rating-bad"' in article and "Customer rated: Not good" in article
    assert "It &lt;b&gt;still&lt;/b&gt; has not arrived" in article


def test_ratings_add_no_queries_to_the_ticket_page(agent_client):
    ticket = TicketFactory()

    def rated_replies(count: int) -> None:
        for _ in range(count):
            MessageFactory(ticket=ticket)
            reply = _reply(ticket)
            rating_record(message_id=reply.pk, score="good")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(reverse("ticket", args=[ticket.pk])).status_code == 200
        return len(captured)

    rated_replies(2)
    with_two = queries()
    rated_replies(8)

    assert queries() == with_two


def test_the_admin_lists_ratings_read_only(desk_admin_client):
    reply = _reply()
    rating, _ = rating_record(message_id=reply.pk, score="okay")

    listing = desk_admin_client.get(reverse("admin:feedback_rating_changelist"))
    detail = desk_admin_client.get(reverse("admin:feedback_rating_change", args=[rating.pk]))

    assert listing.status_code == 200 and "Okay" in listing.content.decode()
    assert detail.status_code == 200 and 'name="score"' not in detail.content.decode()
    assert desk_admin_client.get(reverse("admin:feedback_rating_add")).status_code == 403


def test_rating_url_is_absolute(settings):
    settings.SITE_URL = "https://help.example.com"

    assert rating_url(message_id=1, score="good").startswith("https://help.example.com/rate/")
