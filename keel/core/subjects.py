"""Resolving 'a record of any app' by its label and id, as the user may see it."""

from __future__ import annotations

from django.apps import apps

from keel.core.access import get_visible, require_permission
from keel.core.exceptions import NotFound
from keel.core.models import Company
from keel.core.records import parse_id


def resolve_subject(user, subject_type: str, subject_id: str):
    """The record `subject_type:subject_id` if the user may see it; NotFound otherwise."""
    try:
        model = apps.get_model(subject_type)
    except (LookupError, ValueError):
        raise NotFound("No such record.", code="record.not_found")
    if model is Company:
        company = Company.objects.filter(pk=parse_id(subject_id) or 0).first()
        if company is None:
            raise NotFound("No such record.", code="record.not_found")
        require_permission(user, company, "company.view")
        return company
    if not hasattr(model, "company"):
        raise NotFound("No such record.", code="record.not_found")
    return get_visible(model.objects.all(), user, getattr(model, "view_permission", "company.view"),
                       pk=parse_id(subject_id) or 0)
