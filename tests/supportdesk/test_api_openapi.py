"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1, and true to the routes."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from supportdesk.openapi import SCHEMA
from supportdesk.services import api_token_create
from tests.factories import ArticleFactory, TicketFactory
from tests.supportdesk.api_support import Api

pytestmark = pytest.mark.django_db

METHODS = ("get", "post", "put", "patch", "delete")


def _api_routes() -> list[str]:
    """Every /api/v1 route, written as an OpenAPI path ("<int:pk>" becomes "{id}")."""
    routes = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name != "api-not-found":
                route = prefix + str(pattern.pattern)
                if route.startswith("api/v1/"):
                    routes.append("/" + re.sub(r"<int:\w+>", "{id}", route))

    walk(get_resolver().url_patterns, "")
    return routes


def test_the_document_is_served_without_a_token(client):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == SCHEMA


def test_the_document_is_valid_openapi_3_1():
    validate(SCHEMA)  # raises on any error

    assert SCHEMA["openapi"].startswith("3.1")


def test_the_validator_would_catch_a_broken_document():
    broken = {**SCHEMA, "paths": {"/api/v1/tickets": {"get": {"responses": {"200": {}}}}}}

    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_api_route_is_documented_and_every_documented_path_exists():
    routes = _api_routes()

    assert len(routes) == 11
    assert set(routes) == set(SCHEMA["paths"])


def test_any_other_api_path_is_a_json_404(client):
    for path in ("/api/v1/", "/api/v1/tickets/abc", "/api/v1/tickets/1/notes", "/api/v1/x/"):
        response = client.get(path)

        assert response.status_code == 404, path
        assert response.json() == {"error": f"No API endpoint at {path}."}


def test_a_path_with_a_line_break_is_a_json_404_too(client):
    response = client.get("/api/v1/tickets/%0Aabc/messages")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_a_ticket_id_beyond_64_bits_is_404(client, agent):
    token = api_token_create(user=agent)
    huge = 2**63

    for url in (f"/api/v1/tickets/{huge}", f"/api/v1/tickets/{huge}/messages"):
        response = client.get(url, headers={"Authorization": f"Bearer {token}"})

        assert response.status_code == 404
        assert response.json() == {"error": f"No ticket {huge}."}


def test_documented_methods_are_exactly_the_ones_each_route_accepts(client, agent):
    token = api_token_create(user=agent)
    ticket = TicketFactory()
    for path, item in SCHEMA["paths"].items():
        url = path.replace("{id}", str(ticket.pk))
        for method in METHODS:
            response = client.generic(
                method.upper(),
                url,
                data=b"{}",
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}"},
            )
            documented = method in item
            assert (response.status_code != 405) == documented, (method, path)
            if not documented:
                assert response.json()["error"] == f"Method {method.upper()} not allowed here."


def test_every_operation_documents_authentication_errors_unless_public():
    for path, item in SCHEMA["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            public = operation.get("security") == []
            assert public == (path == "/api/v1/openapi.json"), (method, path)
            if not public:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_every_post_documents_the_idempotency_key_and_body_errors():
    for path, item in SCHEMA["paths"].items():
        # Raw e-mail needs no key: its own Message-ID makes a re-delivery harmless.
        if "post" not in item or path == "/api/v1/inbound/email":
            continue
        post = item["post"]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in post["parameters"], path
        assert {"400", "409", "413", "415"} <= set(post["responses"]), path


def test_a_fully_processed_ticket_matches_the_documented_shape(
    client, agent, categories, stub_triage, django_capture_on_commit_callbacks
):
    stub_triage(category="delivery", emotion="anxious")
    ArticleFactory(
        title="Where is my parcel?",
        body="Parcels marked dispatched arrive within 5 working days. Open Orders and click "
        "Track parcel to see the courier's latest scan.",
    )
    api = Api(client, api_token_create(user=agent))
    new = {
        "customer": {"email": "maria@example.com"},
        "subject": "Where is my parcel?",
        "body": "My parcel says dispatched for a week now. Where is it?",
    }
    with django_capture_on_commit_callbacks(execute=True):
        pk = api.post("/api/v1/tickets", new).json()["id"]

    data = api.get(f"/api/v1/tickets/{pk}").json()  # Api checks it against the schema

    assert data["triage"] is not None
    assert data["routing"] is not None
    assert data["draft"] is not None
