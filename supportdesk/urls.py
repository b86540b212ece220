from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from feedback import metrics_views
from feedback import views as feedback_views
from supportdesk import openapi
from supportdesk.api import common as api_common
from supportdesk.api import loop as api_loop
from supportdesk.api import tickets as api_tickets
from supportdesk.inbox import reply_views, suggestion_views, triage_views, views
from supportdesk.intake import inbound
from supportdesk.intake import views as intake_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("me/", views.preferences, name="preferences"),
    # The language switch of the pages anyone may open (contact form, sign-in): a cookie.
    path("i18n/", include("django.conf.urls.i18n")),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/bulk/", views.inbox_bulk, name="inbox-bulk"),
    path("inbox/views/", views.saved_view_save, name="saved-view-save"),
    path("inbox/views/<int:pk>/delete/", views.saved_view_delete, name="saved-view-delete"),
    path("tickets/<int:pk>/", views.ticket_page, name="ticket"),
    path("tickets/<int:pk>/triage/", triage_views.correct, name="triage-correct"),
    path("tickets/<int:pk>/reply/", reply_views.reply, name="ticket-reply"),
    path("tickets/<int:pk>/notes/", reply_views.note, name="ticket-note"),
    path("tickets/<int:pk>/editing/", reply_views.editing, name="ticket-editing"),
    path("tickets/<int:pk>/macros/", reply_views.macros, name="ticket-macros"),
    path("tickets/<int:pk>/retry/", views.ticket_retry_ai, name="ticket-retry"),
    path("tickets/<int:pk>/status/", views.ticket_status, name="ticket-status"),
    path("tickets/<int:pk>/assign/", triage_views.reassign, name="ticket-assign"),
    path("tickets/<int:pk>/assignees/", views.ticket_assignees, name="ticket-assignees"),
    path("tickets/<int:pk>/tags/", triage_views.tag_add, name="ticket-tag-add"),
    path(
        "tickets/<int:pk>/tags/<int:tag_id>/remove/",
        triage_views.tag_remove,
        name="ticket-tag-remove",
    ),
    path("tickets/<int:pk>/merge/", triage_views.merge, name="ticket-merge"),
    path("tickets/<int:pk>/reroute/", triage_views.reroute, name="ticket-reroute"),
    path("tickets/<int:pk>/escalate/", triage_views.escalate, name="ticket-escalate"),
    path("tickets/<int:pk>/deescalate/", triage_views.deescalate, name="ticket-deescalate"),
    path("drafts/<int:pk>/send/", reply_views.send, name="draft-send"),
    path("drafts/<int:pk>/escalate/", reply_views.escalate, name="draft-escalate"),
    path("drafts/<int:pk>/regenerate/", reply_views.regenerate, name="draft-regenerate"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("messages/<int:pk>/delivery/", reply_views.outbound_action, name="outbound-action"),
    path("tickets/<int:pk>/allow-sending/", reply_views.allow_sending, name="allow-sending"),
    path("supervisor/", triage_views.supervisor, name="supervisor"),
    path("supervisor/rules/", triage_views.routing_rules, name="routing-rules"),
    path("suggestions/", suggestion_views.suggestions, name="suggestions"),
    path("suggestions/update/", suggestion_views.suggestions_update, name="suggestions-update"),
    path("knowledge/", include("knowledge.urls")),
    path("escalations/<int:pk>/acknowledge/", triage_views.acknowledge, name="escalation-ack"),
    path("escalations/bulk/", triage_views.escalations_bulk, name="escalations-bulk"),
    path("contact/", intake_views.contact, name="contact"),
    path("contact/thanks/", intake_views.contact_thanks, name="contact-thanks"),
    # Customers rate a reply from the links in its e-mail (signed tokens, no login).
    path("metrics/", metrics_views.metrics, name="metrics"),
    path("metrics/tickets/", metrics_views.metrics_ticket_list, name="metrics-tickets"),
    path("metrics/download.csv", metrics_views.metrics_csv, name="metrics-csv"),
    path("metrics/update/", metrics_views.metrics_update, name="metrics-update"),
    path("rate/<str:token>/", feedback_views.rating, name="rating"),
    path("rate/<str:token>/comment/", feedback_views.rating_comment, name="rating-comment"),
    path("api/v1/tickets", api_tickets.tickets, name="api-tickets"),
    path("api/v1/tickets/<int:pk>", api_tickets.ticket, name="api-ticket"),
    path(
        "api/v1/tickets/<int:pk>/messages", api_tickets.ticket_messages, name="api-ticket-messages"
    ),
    path("api/v1/tickets/<int:pk>/triage", api_loop.ticket_triage, name="api-ticket-triage"),
    path("api/v1/drafts", api_loop.drafts, name="api-drafts"),
    path("api/v1/drafts/<int:pk>", api_loop.draft, name="api-draft"),
    path("api/v1/drafts/<int:pk>/approve", api_loop.draft_approve, name="api-draft-approve"),
    path("api/v1/drafts/<int:pk>/send", api_loop.draft_edit_send, name="api-draft-send"),
    path("api/v1/feedback-events", api_loop.feedback_events, name="api-feedback-events"),
    path("api/v1/openapi.json", openapi.schema_view, name="api-openapi"),
    path("api/v1/inbound/email", inbound.raw_email, name="inbound-email"),
    *[
        path(f"inbound/{provider}/", inbound.provider_webhook(provider), name=f"inbound-{provider}")
        for provider in inbound.PROVIDERS
    ],
    re_path(r"^api/v1/(?P<path>[\s\S]*)$", api_common.not_found, name="api-not-found"),
    path("integrations/zendesk/webhook", intake_views.zendesk_webhook, name="zendesk-webhook"),
    path("admin/", admin.site.urls),
]
