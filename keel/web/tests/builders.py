"""Small builders of records for page tests (through the services, as the pages do)."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile

from keel.core.activity import record
from keel.core.models import EventDelivery, Membership, Role
from keel.core.services.attachments import attach_file
from keel.core.services.parties import create_party
from keel.inbox.services import create_task


def a_party(company, owner, name="Hooli", **values):
    return create_party(actor=owner, company=company, name=name, **values)


def a_task(company, owner, title="Call Hooli", **values):
    values.setdefault("assignee", owner)
    return create_task(actor=owner, company=company, title=title, **values)


def an_attachment(company, owner, name="contract.pdf", content=b"%PDF-1.4 hello"):
    return attach_file(actor=owner, subject=a_party(company, owner, name="Attached Ltd"),
                       upload=SimpleUploadedFile(name, content))


def a_failed_delivery(company, owner, error="Traceback: boom"):
    activity = record(company=company, actor=owner, verb="core.test_happened", subject=company)
    return EventDelivery.objects.create(company=company, activity=activity, event=activity.verb,
                                        handler="keel.tests.handler", status="failed", attempts=5, last_error=error)


def owner_membership(company, owner):
    return Membership.objects.get(company=company, user=owner)


def role(company, code="employee"):
    return Role.objects.get(company=company, code=code)


def days_ago(n: int) -> dt.date:
    from django.utils import timezone

    return timezone.localdate() - dt.timedelta(days=n)
