"""A small client for REST API tests: bearer token, JSON bodies, and every answer checked
against the OpenAPI document the server publishes."""

from __future__ import annotations

import json
import re

from django.test import Client
from jsonschema import ValidationError
from openapi_schema_validator import OAS31Validator

from supportdesk.openapi import SCHEMA

TICKETS_URL = "/api/v1/tickets"


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = SCHEMA["components"][section][name]
    return node


def _operation(method: str, path: str) -> dict:
    for template, item in SCHEMA["paths"].items():
        # "{id}" in a template matches one path segment.
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the OpenAPI document")


def assert_documented(response, method: str, path: str) -> None:
    """The response's status is documented for this operation and its body fits the schema."""
    responses = _operation(method, path.split("?")[0])["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method} {path} answered undocumented {status}"
    documented = _resolve(responses[status])
    schema = documented["content"]["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": SCHEMA["components"]})
    try:
        validator.validate(response.json())
    except ValidationError as exc:
        raise AssertionError(f"{method} {path} {status} does not match its schema: {exc}") from exc
    for header in documented.get("headers", {}):
        if header == "WWW-Authenticate":
            assert response.has_header(header)


class Api:
    """Calls the API as one token holder; every response is checked against the schema."""

    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, key: str | None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, params: dict | None = None):
        response = self.client.get(path, params or {}, headers=self._headers(None))
        assert_documented(response, "GET", path)
        return response

    def post(self, path: str, body, *, key: str | None = None, content_type="application/json"):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        response = self.client.post(
            path, data=data, content_type=content_type, headers=self._headers(key)
        )
        assert_documented(response, "POST", path)
        return response
