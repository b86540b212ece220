"""The OpenAPI 3.1 description of REST API v1, served at /api/v1/openapi.json.

Written by hand next to ``api.py``; enums come from the models so they cannot drift. Tests
validate the document, check that every /api/v1 route is in it, and check real responses
against its schemas.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from feedback.models import FeedbackEvent
from replies.models import Draft
from supportdesk.inbox.forms import API_MAX_PAGE_SIZE, API_PAGE_SIZE
from supportdesk.intake.api_base import MAX_ID, allow_methods
from supportdesk.intake.idempotency import IDEMPOTENCY_TTL
from supportdesk.models import URGENCY_CODES, Message, Ticket
from triage.engine.types import EMOTIONS
from triage.models import RoutingDecision

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    if "$ref" in schema:
        return {"oneOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _obj(properties: dict, *, required: list[str] | None = None, **extra: object) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
NUMBER = {"type": "number"}
DATETIME = {"type": "string", "format": "date-time"}
STRINGS = {"type": "array", "items": STRING}
URGENCIES = [URGENCY_CODES[u] for u in Ticket.Urgency if u != Ticket.Urgency.UNKNOWN]
MESSAGE_CHARS = settings.MAX_MESSAGE_CHARS

SCHEMAS = {
    "Error": _obj(
        {
            "error": {**STRING, "description": "What went wrong, in a sentence."},
            "fields": {
                "type": "object",
                "description": "Per-field messages (400 validation errors only).",
                "additionalProperties": STRINGS,
            },
            "ticket_id": {
                **INTEGER,
                "description": "The ticket that already holds this external_id (409 only).",
            },
        },
        required=["error"],
    ),
    "Customer": _obj(
        {
            "email": {**STRING, "format": "email"},
            "name": STRING,
            "locale": {**STRING, "description": "BCP 47 tag, or empty when unknown."},
        }
    ),
    "CustomerInput": _obj(
        {
            "email": {**STRING, "format": "email", "maxLength": 254},
            "name": {**STRING, "maxLength": 200},
            "locale": {
                **STRING,
                "maxLength": 35,
                "description": "BCP 47 tag such as en, ja-JP or zh-Hant.",
            },
        },
        required=["email"],
    ),
    "TicketCreate": _obj(
        {
            "customer": _ref("CustomerInput"),
            "subject": {**STRING, "maxLength": 250, "description": "Not blank."},
            "body": {**STRING, "maxLength": MESSAGE_CHARS, "description": "Plain text."},
        }
    ),
    "TicketSummary": _obj(
        {
            "id": INTEGER,
            "reference": {**STRING, "examples": ["#42"]},
            "subject": STRING,
            "status": {**STRING, "enum": Ticket.Status.values},
            "channel": {**STRING, "enum": Ticket.Channel.values},
            "language": _nullable(STRING),
            "urgency": {
                "type": ["string", "null"],
                "enum": [*URGENCIES, None],
                "description": "null until triaged.",
            },
            "needs_manual_triage": BOOLEAN,
            "escalated": BOOLEAN,
            "customer": _ref("Customer"),
            "created_at": DATETIME,
            "updated_at": DATETIME,
        }
    ),
    "Triage": _obj(
        {
            "category": _nullable(STRING),
            "category_confidence": NUMBER,
            "out_of_scope": BOOLEAN,
            "emotion": {**STRING, "enum": list(EMOTIONS)},
            "emotion_confidence": NUMBER,
            "emotion_intensity": NUMBER,
            "urgency": STRING,
            "urgency_reasons": STRINGS,
            "needs_human": BOOLEAN,
            "needs_human_reasons": STRINGS,
            "language": STRING,
            "engine": STRING,
            "engine_version": STRING,
        }
    ),
    "Routing": _obj(
        {"action": {**STRING, "enum": RoutingDecision.Action.values}, "reasons": STRINGS}
    ),
    "Draft": _obj(
        {
            "id": INTEGER,
            "status": {**STRING, "enum": Draft.Status.values},
            "text": STRING,
            "language": STRING,
            "citations": {"type": "array", "items": {"type": "object"}},
            "grounded": BOOLEAN,
            "needs_translation": BOOLEAN,
        }
    ),
    "Ticket": {
        "allOf": [
            _ref("TicketSummary"),
            _obj(
                {
                    "triage": _nullable(_ref("Triage")),
                    "routing": _nullable(_ref("Routing")),
                    "draft": _nullable(_ref("Draft")),
                    "messages": {
                        "type": "array",
                        "items": _ref("Message"),
                        "description": "The latest 50 messages, oldest first; "
                        "GET /tickets/{id}/messages has them all.",
                    },
                }
            ),
        ]
    },
    "Message": _obj(
        {
            "id": INTEGER,
            "ticket_id": INTEGER,
            "direction": {**STRING, "enum": ["inbound", "outbound"]},
            "body": {**STRING, "description": "Plain text."},
            "external_id": {
                "type": ["string", "null"],
                "description": "The caller's id given when the message was added through "
                "this API; null otherwise.",
            },
            "created_at": DATETIME,
            "delivery_status": {
                "type": ["string", "null"],
                "enum": [*[v for v in Message.Delivery.values if v], None],
                "description": "Outbound messages only.",
            },
        }
    ),
    "MessageCreate": _obj(
        {
            "body": {**STRING, "maxLength": MESSAGE_CHARS, "description": "Plain text."},
            "external_id": {
                **STRING,
                "maxLength": 251,
                "description": "Your id for this message (printable, no surrounding "
                "spaces). Sending the same id again returns the stored message with 200.",
            },
        },
        required=["body"],
    ),
    "MessageAdded": {
        "allOf": [
            _ref("Message"),
            _obj(
                {
                    "ticket": _obj(
                        {"id": INTEGER, "status": {**STRING, "enum": Ticket.Status.values}}
                    )
                }
            ),
        ]
    },
    "InboundResult": _obj(
        {
            "ticket": {"type": ["integer", "null"], "description": "Null for a bounce."},
            "message": {"type": ["integer", "null"], "description": "Null for a bounce."},
            "created_ticket": {"type": "boolean"},
            "duplicate": {"type": "boolean", "description": "Delivered before: nothing added."},
            "bounce": {"type": "boolean", "description": "A delivery failure of our reply."},
            "auto_reply_allowed": {
                "type": "boolean",
                "description": "False for auto-replies, bulk and list mail: nothing automatic "
                "is sent back.",
            },
        }
    ),
    "TicketPage": _obj(
        {
            "results": {"type": "array", "items": _ref("TicketSummary")},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The next page, with the same filters; null on the last page.",
            },
        }
    ),
    "MessagePage": _obj(
        {
            "results": {"type": "array", "items": _ref("Message")},
            "next": {"type": ["string", "null"], "format": "uri"},
        }
    ),
    "DraftDetail": _obj(
        {
            "id": INTEGER,
            "ticket_id": INTEGER,
            "status": {**STRING, "enum": Draft.Status.values},
            "text": STRING,
            "language": {**STRING, "description": "BCP 47 tag of the draft's language."},
            "citations": {
                "type": "array",
                "items": {"type": "object"},
                "description": "The knowledge-base passages the draft quotes, in the order "
                "of its [1], [2] … markers: article_id, title, language, score, passage.",
            },
            "confidence": {**NUMBER, "minimum": 0, "maximum": 1},
            "grounded": {**BOOLEAN, "description": "Backed by the knowledge base."},
            "needs_translation": BOOLEAN,
            "needs_human_reason": {
                "type": ["string", "null"],
                "description": "Why a person must read it before it goes out, if a reason "
                "other than grounding applies.",
            },
            "engine": STRING,
            "engine_version": STRING,
            "created_at": DATETIME,
            "decided_by": {
                "type": ["string", "null"],
                "description": "Username of who sent, escalated or replaced it; null while "
                "proposed.",
            },
            "decided_at": _nullable(DATETIME),
            "in_reply_to": {**_ref("Message"), "description": "The message it answers."},
            "sent_message": {
                "oneOf": [_ref("Message"), {"type": "null"}],
                "description": "The reply it became, once sent.",
            },
        }
    ),
    "DraftPage": _obj(
        {
            "results": {"type": "array", "items": _ref("DraftDetail")},
            "next": {"type": ["string", "null"], "format": "uri"},
        }
    ),
    "DraftApprove": {
        "type": "object",
        "maxProperties": 0,
        "description": "No fields: the draft is sent exactly as written.",
    },
    "DraftSend": _obj(
        {
            "text": {
                **STRING,
                "minLength": 1,
                "maxLength": MESSAGE_CHARS,
                "description": "The reply to send instead of the draft's text (not blank).",
            },
            "reason": {
                "type": ["string", "null"],
                "enum": [*FeedbackEvent.EditReason.values, None],
                "description": "What was wrong with the draft; kept with the feedback event.",
            },
        },
        required=["text"],
        additionalProperties=False,
    ),
    "TriageCorrection": _obj(
        {
            "category": {
                "type": ["string", "null"],
                "description": "The slug of an active category; null for out of scope.",
            },
            "emotion": {**STRING, "enum": list(EMOTIONS)},
            "urgency": {**STRING, "enum": URGENCIES},
        },
        additionalProperties=False,
    ),
    "TriageLabels": _obj(
        {
            "ticket_id": INTEGER,
            "category": {
                "type": ["string", "null"],
                "description": "Category slug; null when out of scope.",
            },
            "emotion": {"type": ["string", "null"], "enum": [*EMOTIONS, None]},
            "urgency": {**STRING, "enum": URGENCIES},
        }
    ),
    "FeedbackEvent": _obj(
        {
            "id": INTEGER,
            "kind": {**STRING, "enum": FeedbackEvent.Kind.values},
            "actor": {
                "type": ["string", "null"],
                "description": "Username of who decided; null for the customer's own "
                "verdicts (follow-ups) or a deleted user.",
            },
            "ticket_id": INTEGER,
            "draft_id": {
                "type": ["integer", "null"],
                "description": "Exactly one of draft_id, triage_id and routing_id is set: "
                "the AI output this decision judges.",
            },
            "triage_id": {"type": ["integer", "null"]},
            "routing_id": {"type": ["integer", "null"]},
            "message_id": {
                "type": ["integer", "null"],
                "description": "The message that gave the verdict (follow_up, takeover).",
            },
            "before": {"type": "object", "description": "The AI's output as it was."},
            "after": {"type": "object", "description": "What the person made of it."},
            "diff": {**STRING, "description": "Unified diff of an edited draft's text."},
            "reason": {
                "type": ["string", "null"],
                "enum": [*FeedbackEvent.EditReason.values, None],
                "description": "Why an edited draft was changed, when the agent said.",
            },
            "note": STRING,
            "created_at": DATETIME,
        }
    ),
    "FeedbackEventPage": _obj(
        {
            "results": {"type": "array", "items": _ref("FeedbackEvent")},
            "next": {"type": ["string", "null"], "format": "uri"},
        }
    ),
}


def _error(description: str, **headers: dict) -> dict:
    response = {"description": description, "content": {JSON: {"schema": _ref("Error")}}}
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "BadRequest": _error(
        "Malformed JSON, a body that is not an object, invalid fields or query parameters "
        "(see `fields`), an invalid cursor, or an invalid Idempotency-Key."
    ),
    "Unauthorized": _error(
        "Missing, invalid or revoked bearer token.",
        **{"WWW-Authenticate": {"schema": STRING, "description": "`Bearer`"}},
    ),
    "Forbidden": _error("The token's user does not have the agent role."),
    "NotFound": _error("No ticket with this id."),
    "DraftNotFound": _error("No draft with this id."),
    "ReplyForbidden": _error(
        "The token's user does not have the agent role, or may not answer this ticket "
        "(an escalated ticket that only supervisors answer)."
    ),
    "DraftConflict": _error(
        "The draft was already decided (sent, escalated or replaced by a newer draft; the "
        "message says by whom and when), or the Idempotency-Key was used before for a different "
        "request or is still in progress (then with Retry-After).",
        **{"Retry-After": {"schema": INTEGER, "description": "Seconds; in progress only."}},
    ),
    "IdempotencyConflict": _error(
        "The Idempotency-Key was used before for a different request, or a request with it "
        "is still in progress (then with Retry-After).",
        **{"Retry-After": {"schema": INTEGER, "description": "Seconds; in progress only."}},
    ),
    "TooLarge": _error("The body is larger than the server accepts."),
    "UnsupportedMediaType": _error("The body was not sent as application/json."),
}

REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored response of an earlier request "
        "with the same Idempotency-Key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}

PARAMETERS = {
    "IdempotencyKey": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "description": (
            "A unique key per logical request (a UUID works). Retrying with the same key and "
            "body returns the stored response with `Idempotent-Replayed: true` and does the "
            "work only once, even for concurrent retries; the same key with a different body "
            "or endpoint is a 409. Keys are per token user and kept for "
            f"{int(IDEMPOTENCY_TTL.total_seconds() // 3600)} hours. Only successful responses "
            "are stored: after an error the key can be used again."
        ),
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    },
    "TicketId": {"name": "id", "in": "path", "required": True, "schema": INTEGER},
    "DraftId": {"name": "id", "in": "path", "required": True, "schema": INTEGER},
    "Cursor": {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "Opaque; take it from a previous page's `next` URL.",
        "schema": {"type": "string", "maxLength": 200},
    },
    "Limit": {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": f"Page size, default {API_PAGE_SIZE}.",
        "schema": {"type": "integer", "minimum": 1, "maximum": API_MAX_PAGE_SIZE},
    },
}


def _param(name: str) -> dict:
    return {"$ref": f"#/components/parameters/{name}"}


def _resp(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _json_body(schema_name: str) -> dict:
    return {"required": True, "content": {JSON: {"schema": _ref(schema_name)}}}


def _ok(description: str, schema_name: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {JSON: {"schema": _ref(schema_name)}}}
    if headers:
        response["headers"] = headers
    return response


AUTH_ERRORS = {"401": _resp("Unauthorized"), "403": _resp("Forbidden")}
BODY_ERRORS = {
    "400": _resp("BadRequest"),
    "409": _resp("IdempotencyConflict"),
    "413": _resp("TooLarge"),
    "415": _resp("UnsupportedMediaType"),
}


def _filter(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PATHS = {
    "/api/v1/tickets": {
        "get": {
            "operationId": "listTickets",
            "summary": "List tickets, newest first",
            "description": (
                "Cursor-paginated by (created_at, id), which never change: walking the pages "
                "while tickets are updated shows each matching ticket once. To sync, note the "
                "time before you start and pass it as `updated_since` next time."
            ),
            "parameters": [
                _filter("status", {**STRING, "enum": Ticket.Status.values}, "Only this status."),
                _filter("channel", {**STRING, "enum": Ticket.Channel.values}, "Only this channel."),
                _filter(
                    "customer_email",
                    {**STRING, "format": "email", "maxLength": 254},
                    "Only this customer's tickets (case-insensitive).",
                ),
                _filter(
                    "updated_since",
                    DATETIME,
                    "Only tickets updated at or after this ISO 8601 time (UTC if no offset).",
                ),
                _param("Cursor"),
                _param("Limit"),
            ],
            "responses": {
                "200": _ok("A page of tickets.", "TicketPage"),
                "400": _resp("BadRequest"),
                **AUTH_ERRORS,
            },
        },
        "post": {
            "operationId": "createTicket",
            "summary": "Create a ticket with its first customer message",
            "description": "The AI pipeline (triage, routing, draft) runs in the background.",
            "parameters": [_param("IdempotencyKey")],
            "requestBody": _json_body("TicketCreate"),
            "responses": {
                "201": _ok("The new ticket.", "Ticket", REPLAYED),
                **BODY_ERRORS,
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/tickets/{id}": {
        "parameters": [_param("TicketId")],
        "get": {
            "operationId": "getTicket",
            "summary": "A ticket with its triage, routing, current draft and latest messages",
            "responses": {
                "200": _ok("The ticket.", "Ticket"),
                **AUTH_ERRORS,
                "404": _resp("NotFound"),
            },
        },
    },
    "/api/v1/tickets/{id}/messages": {
        "parameters": [_param("TicketId")],
        "get": {
            "operationId": "listTicketMessages",
            "summary": "A ticket's messages, oldest first",
            "parameters": [_param("Cursor"), _param("Limit")],
            "responses": {
                "200": _ok("A page of messages.", "MessagePage"),
                "400": _resp("BadRequest"),
                **AUTH_ERRORS,
                "404": _resp("NotFound"),
            },
        },
        "post": {
            "operationId": "addTicketMessage",
            "summary": "Add a customer message to a ticket",
            "description": (
                "Reopens a solved or waiting ticket and runs the AI pipeline on the new "
                "message. With an `external_id` that was sent before for this ticket, the "
                "stored message is returned (200) and nothing changes; an `external_id` used "
                "on another ticket is a 409."
            ),
            "parameters": [_param("IdempotencyKey")],
            "requestBody": _json_body("MessageCreate"),
            "responses": {
                "201": _ok("The message was added.", "MessageAdded", REPLAYED),
                "200": _ok(
                    "A message with this external_id was already added: it is returned.",
                    "MessageAdded",
                    REPLAYED,
                ),
                **BODY_ERRORS,
                **AUTH_ERRORS,
                "404": _resp("NotFound"),
            },
        },
    },
    "/api/v1/tickets/{id}/triage": {
        "parameters": [_param("TicketId")],
        "post": {
            "operationId": "correctTicketTriage",
            "summary": "Correct a ticket's category, emotion and urgency",
            "description": (
                "As an agent does on the ticket page: the ticket takes the new labels, a changed "
                "category or emotion becomes a training example for the next retraining, and a "
                "`triage_corrected` feedback event is recorded. Sending the labels it already "
                "has changes nothing."
            ),
            "parameters": [_param("IdempotencyKey")],
            "requestBody": _json_body("TriageCorrection"),
            "responses": {
                "200": _ok("The ticket's labels now.", "TriageLabels", REPLAYED),
                **BODY_ERRORS,
                **AUTH_ERRORS,
                "404": _resp("NotFound"),
            },
        },
    },
    "/api/v1/drafts": {
        "get": {
            "operationId": "listDrafts",
            "summary": "List AI drafts, newest first",
            "description": "Cursor-paginated by (created_at, id), like the ticket list.",
            "parameters": [
                _filter("status", {**STRING, "enum": Draft.Status.values}, "Only this status."),
                _filter(
                    "ticket",
                    {**INTEGER, "minimum": 1, "maximum": MAX_ID},
                    "Only the drafts of this ticket.",
                ),
                _filter(
                    "since",
                    DATETIME,
                    "Only drafts written at or after this ISO 8601 time (UTC if no offset).",
                ),
                _param("Cursor"),
                _param("Limit"),
            ],
            "responses": {
                "200": _ok("A page of drafts.", "DraftPage"),
                "400": _resp("BadRequest"),
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/drafts/{id}": {
        "parameters": [_param("DraftId")],
        "get": {
            "operationId": "getDraft",
            "summary": "A draft with its citations, confidence, status and who decided it",
            "responses": {
                "200": _ok("The draft.", "DraftDetail"),
                **AUTH_ERRORS,
                "404": _resp("DraftNotFound"),
            },
        },
    },
    "/api/v1/drafts/{id}/approve": {
        "parameters": [_param("DraftId")],
        "post": {
            "operationId": "approveDraft",
            "summary": "Send a proposed draft to the customer as written",
            "description": (
                "Exactly once: of two approvals only the first sends, the second is a 409 "
                "that says who decided first. Records a `draft_approved` feedback event for "
                "the token's user. Send no body, or `{}`."
            ),
            "parameters": [_param("IdempotencyKey")],
            "requestBody": {
                "required": False,
                "content": {JSON: {"schema": _ref("DraftApprove")}},
            },
            "responses": {
                "200": _ok(
                    "The draft, now sent, with the reply it became.", "DraftDetail", REPLAYED
                ),
                **BODY_ERRORS,
                "409": _resp("DraftConflict"),
                **AUTH_ERRORS,
                "403": _resp("ReplyForbidden"),
                "404": _resp("DraftNotFound"),
            },
        },
    },
    "/api/v1/drafts/{id}/send": {
        "parameters": [_param("DraftId")],
        "post": {
            "operationId": "editAndSendDraft",
            "summary": "Send edited text in place of a proposed draft",
            "description": (
                "Records a `draft_edited` feedback event with the diff and the `reason`; text "
                "identical to the draft's counts as an approval (`draft_approved`). An "
                "unknown reason is a 400 and nothing is sent."
            ),
            "parameters": [_param("IdempotencyKey")],
            "requestBody": _json_body("DraftSend"),
            "responses": {
                "200": _ok(
                    "The draft, now sent, with the reply it became.", "DraftDetail", REPLAYED
                ),
                **BODY_ERRORS,
                "409": _resp("DraftConflict"),
                **AUTH_ERRORS,
                "403": _resp("ReplyForbidden"),
                "404": _resp("DraftNotFound"),
            },
        },
    },
    "/api/v1/feedback-events": {
        "get": {
            "operationId": "listFeedbackEvents",
            "summary": "People's decisions on AI output, newest first",
            "description": (
                "Approvals, edits (with diff and reason), escalations, triage corrections, "
                "routing overrides, follow-ups and takeovers. Cursor-paginated by "
                "(created_at, id)."
            ),
            "parameters": [
                _filter("kind", {**STRING, "enum": FeedbackEvent.Kind.values}, "Only this kind."),
                _filter(
                    "ticket",
                    {**INTEGER, "minimum": 1, "maximum": MAX_ID},
                    "Only this ticket's events.",
                ),
                _filter(
                    "since",
                    DATETIME,
                    "Only events at or after this ISO 8601 time (UTC if no offset).",
                ),
                _param("Cursor"),
                _param("Limit"),
            ],
            "responses": {
                "200": _ok("A page of feedback events.", "FeedbackEventPage"),
                "400": _resp("BadRequest"),
                **AUTH_ERRORS,
            },
        },
    },
    "/api/v1/inbound/email": {
        "post": {
            "operationId": "ingestRawEmail",
            "summary": "File one raw RFC 5322 e-mail (for mail servers and relays)",
            "description": (
                "The message goes through the same intake as every other e-mail: threading by "
                "Message-ID / In-Reply-To / References and the [#id] subject token, duplicate "
                "deliveries stored once, bounces matched to the reply they return."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("message/rfc822", "application/octet-stream", "text/plain")
                },
            },
            "responses": {
                "201": _ok("A new message was filed.", "InboundResult"),
                "200": _ok("A repeat delivery (the stored message) or a bounce.", "InboundResult"),
                "400": _resp("BadRequest"),
                "413": _resp("TooLarge"),
                "415": _resp("UnsupportedMediaType"),
                **AUTH_ERRORS,
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApiSchema",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 description of this API.",
                    "content": {JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

SCHEMA = {
    "openapi": "3.1.0",
    "info": {
        "title": "SupportDesk API",
        "version": "1",
        "description": (
            "Create tickets, add customer messages and read tickets and their messages; read "
            "AI drafts, approve or edit-and-send them, correct triage and read the feedback "
            "events these decisions leave. "
            "Authenticate with `Authorization: Bearer <token>` (create one with "
            "`manage.py create_api_token USERNAME`; the user needs the agent role). "
            "Request bodies are JSON objects sent as application/json. Every error is a JSON "
            "object with an `error` message."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A token from `manage.py create_api_token USERNAME`.",
            }
        },
        "schemas": SCHEMAS,
        "parameters": PARAMETERS,
        "responses": RESPONSES,
    },
}


@allow_methods("GET")
def schema_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse(SCHEMA)
