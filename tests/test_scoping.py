"""Every business model belongs to a company, or says why it does not."""

from __future__ import annotations

from django.apps import apps

from keel.core.models import CompanyOwned, CompanyQuerySet


def keel_models():
    return [m for m in apps.get_models() if m.__module__.startswith("keel.")]


def test_every_keel_model_is_company_owned_or_exempt_with_a_reason():
    offenders = []
    for model in keel_models():
        if issubclass(model, CompanyOwned):
            if not isinstance(model.objects.all(), CompanyQuerySet):
                offenders.append(f"{model._meta.label}: company-owned but its manager cannot scope")
            continue
        reason = getattr(model, "company_scope_exempt", "")
        if not isinstance(reason, str) or len(reason) < 10:
            offenders.append(f"{model._meta.label}: neither company-owned nor exempt with a reason")
    assert not offenders, "\n".join(offenders)


def test_every_company_owned_model_names_the_permission_to_see_it():
    from keel.core.permissions import catalogue

    known = set(catalogue())
    missing = [
        m._meta.label for m in keel_models()
        if issubclass(m, CompanyOwned) and m.view_permission not in known
    ]
    assert not missing, f"view_permission not in the permission catalogue: {missing}"


def test_unique_constraints_of_company_owned_models_include_the_company():
    """Distribution by company (Citus) needs company_id in every non-global unique key."""
    offenders = []
    for model in keel_models():
        if not issubclass(model, CompanyOwned):
            continue
        for constraint in model._meta.constraints:
            fields = getattr(constraint, "fields", ())
            if fields and "company" not in fields:
                offenders.append(f"{model._meta.label}.{constraint.name}")
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                offenders.append(f"{model._meta.label}.{field.name} is unique on its own")
    assert not offenders, offenders
