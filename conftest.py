"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from keel.core.tests.factories import DEFAULT_PASSWORD, CompanyFactory, member

pytest_plugins = ["keel.web.tests.browser"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.KEEL_AUDIT_ANCHOR_DIR = tmp_path / "anchors"
    settings.KEEL_AUDIT_ANCHOR_KEY_FILE = tmp_path / "audit_anchor_key"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    # Real hashing costs ~0.3 s a user; tests are not about the hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def company(db):
    return CompanyFactory(code="acme", legal_name="Acme Trading Ltd")


@pytest.fixture
def other_company(db):
    return CompanyFactory(code="globex", legal_name="Globex Services GmbH", country="DE")


@pytest.fixture
def owner(company):
    return member(company, "owner", username="owner@acme.test")


@pytest.fixture
def outsider(other_company):
    """Owner of the other company, member of nothing in `company`."""
    return member(other_company, "owner", username="owner@globex.test")


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def client_for(client):
    """A Django test client logged in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login
