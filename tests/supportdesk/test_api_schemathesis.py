"""Property-based: schemathesis generates requests from /api/v1/openapi.json and sends them to a
live server. No answer may be a 5xx, and every answer must be documented and fit its schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from supportdesk.openapi import SCHEMA
from supportdesk.services import api_token_create
from tests.factories import DraftFactory, MessageFactory, TicketFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


schema = schemathesis.openapi.from_dict(SCHEMA)


@pytest.fixture
def desk(live_server, agent) -> dict:
    """A live server with a few tickets, each with a proposed draft (ids 1.. so generated ids
    sometimes hit one)."""
    for _ in range(3):
        DraftFactory(in_reply_to=MessageFactory(ticket=TicketFactory()))
    return {"url": live_server.url, "token": api_token_create(user=agent)}


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_answers_every_generated_request_as_documented(case, desk):
    case.call_and_validate(
        base_url=desk["url"],
        headers={"Authorization": f"Bearer {desk['token']}"},
        checks=CHECKS,
    )
