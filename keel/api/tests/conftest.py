"""Fixtures of the API tests: clients authenticated with a personal token."""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import cache

import pytest
from django.test import Client

from keel.api.tokens import create_token
from keel.core.services.parties import create_party


class ApiClient:
    """A test client speaking JSON with a Bearer token and, optionally, a company header."""

    def __init__(self, user=None, company=None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            _token, key = create_token(user=user, name="tests")
            self.headers["Authorization"] = f"Bearer {key}"
        if company is not None:
            self.headers["X-Keel-Company"] = company if isinstance(company, str) else company.code

    def request(self, method: str, path: str, body=None, *, raw: bytes | str | None = None, headers=None, **kwargs):
        all_headers = {**self.headers, **(headers or {})}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        call = getattr(self.client, method.lower())
        if data is not None or method.upper() in {"POST", "PUT", "PATCH"}:
            return call(path, data=data or "", content_type="application/json", headers=all_headers, **kwargs)
        return call(path, headers=all_headers, **kwargs)

    def get(self, path, *, headers=None, **kwargs):
        return self.client.get(path, headers={**self.headers, **(headers or {})}, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error format: code, message and a list of {field, message}."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    for error in body["errors"]:
        assert set(error) == {"field", "message"}
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def api(owner, company):
    """The owner of `company`, talking to the API with `company` in the header."""
    return ApiClient(owner, company)


@pytest.fixture
def api_for():
    def make(user=None, company=None):
        return ApiClient(user, company)

    return make


@pytest.fixture
def party(company, owner):
    return create_party(actor=owner, company=company, name="Hooli Ltd", roles=["customer"], email="ap@hooli.test")


@cache
def app_isolation_modules() -> list:
    """Each app's `keel.<app>.tests.isolation*` modules: their ISOLATION entries join the walk,
    and their `path_ids(company, owner)` make acme's records that their path templates name."""
    import keel

    found = []
    for app in pkgutil.iter_modules(keel.__path__):
        try:
            tests = importlib.import_module(f"keel.{app.name}.tests")
        except ModuleNotFoundError:
            continue
        for module in pkgutil.iter_modules(tests.__path__):
            if module.name.startswith("isolation") and module.name != "isolation_kinds":
                found.append(importlib.import_module(f"keel.{app.name}.tests.{module.name}"))
    return found


class Records:
    """One record of every kind the API reaches, all in `company` (acme)."""

    def __init__(self, *, company, owner, party, settings):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from keel.api.models import ApiToken
        from keel.core.activity import record
        from keel.core.models import EventDelivery, Membership, Role
        from keel.core.services.attachments import attach_file
        from keel.inbox.services import create_task

        self.company, self.owner, self.party = company, owner, party
        self.membership = Membership.objects.get(company=company, user=owner)
        self.role = Role.objects.get(company=company, code="employee")
        self.task = create_task(actor=owner, company=company, title="Acme's task", assignee=owner)
        self.attachment = attach_file(actor=owner, subject=party, upload=SimpleUploadedFile("a.txt", b"acme secret"))
        spare, _key = create_token(user=owner, name="spare")
        self.token = ApiToken.objects.get(pk=spare.pk)
        activity = record(company=company, actor=owner, verb="tests.nothing_subscribed", subject=company)
        self.delivery = EventDelivery.objects.create(
            company=company, activity=activity, event=activity.verb, handler="tests.handler", status="failed"
        )
        self.app_ids: dict[str, object] = {}
        for module in app_isolation_modules():
            self.app_ids.update(module.path_ids(company, owner))

    @property
    def path_ids(self) -> dict[str, object]:
        return {
            "company_id": self.company.pk, "membership_id": self.membership.pk, "role_id": self.role.pk,
            "party_id": self.party.pk, "task_id": self.task.pk, "attachment_id": self.attachment.pk,
            "delivery_id": self.delivery.pk, "token_id": self.token.pk, "code": "core.activity_volume",
            **self.app_ids,
        }

    def path(self, template: str) -> str:
        return template.format(**self.path_ids)


@pytest.fixture
def records(company, owner, party, settings):
    return Records(company=company, owner=owner, party=party, settings=settings)


def api_operations() -> list[tuple[str, str]]:
    """(METHOD, path template) of every operation in the OpenAPI document."""
    from keel.api.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    return sorted(
        (method.upper(), path) for path, operations in schema["paths"].items() for method in operations
    )
