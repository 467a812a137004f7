"""The Django admin of core, inbox, insights and api: every registration loads; history is read-only."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from keel.core.models import Activity
from keel.core.services.parties import create_party
from keel.web.tests.builders import a_failed_delivery, a_task, an_attachment

pytestmark = pytest.mark.django_db

APPS = {"core", "inbox", "insights", "api"}


def registered():
    return [m for m in admin.site._registry if m._meta.app_label in APPS]


def test_every_model_of_these_apps_is_registered():
    from django.apps import apps

    missing = [m._meta.label for m in apps.get_models() if m._meta.app_label in APPS and m not in admin.site._registry]
    assert not missing


@pytest.mark.parametrize("model", registered(), ids=lambda m: m._meta.label)
def test_changelists_and_change_pages_load(model, company, owner, client_for):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    create_party(actor=owner, company=company, name="Hooli")
    a_task(company, owner)
    an_attachment(company, owner)
    a_failed_delivery(company, owner)
    client = client_for(owner)
    meta = model._meta
    assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")).status_code == 200
    obj = model._default_manager.first()
    if obj is not None:
        assert client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])).status_code == 200


def test_activities_are_read_only_in_the_admin(company, owner, client_for):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    create_party(actor=owner, company=company, name="Hooli")
    activity = Activity.objects.first()
    client = client_for(owner)
    assert client.get(reverse("admin:core_activity_add")).status_code == 403
    client.post(reverse("admin:core_activity_change", args=[activity.pk]), {"verb": "forged"})
    activity.refresh_from_db()
    assert activity.verb == "core.party_created"
