"""Who may see and do what, in which company: the one scoping mechanism.

Every page, API endpoint and selector asks here. A record of a company the user does not
belong to is reported as not found, never as forbidden, so IDs reveal nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.db import models

from keel.core.exceptions import NotFound, PermissionDenied
from keel.core.models import Company, Membership

M = TypeVar("M", bound=models.Model)
_CACHE_ATTR = "_keel_memberships"


def memberships(user) -> dict[int, Membership]:
    """The user's active memberships by company id, cached on the user object."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        rows = (
            Membership.objects.filter(user=user, is_active=True, company__is_active=True)
            .select_related("role", "company")
            .order_by("company__legal_name")
        )
        cached = {m.company_id: m for m in rows}
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget(user) -> None:
    """Drop the cached memberships (after a role or membership change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_permission(user, company: Company | int | None, permission: str) -> bool:
    if company is None:
        return False
    company_id = company if isinstance(company, int) else company.pk
    membership = memberships(user).get(company_id)
    return membership is not None and membership.role.allows(permission)


def require_permission(user, company: Company | int, permission: str) -> None:
    """Raise NotFound when the user is not in the company, PermissionDenied when the role forbids."""
    company_id = company if isinstance(company, int) else company.pk
    membership = memberships(user).get(company_id)
    if membership is None:
        raise NotFound("No such company.", code="company.not_found")
    if not membership.role.allows(permission):
        raise PermissionDenied(
            f"Your role '{membership.role.name}' does not allow '{permission}'.",
            code="permission.denied",
        )


def company_ids_with_permission(user, permission: str) -> list[int]:
    return [cid for cid, m in memberships(user).items() if m.role.allows(permission)]


def companies_of(user) -> list[Company]:
    return [m.company for m in memberships(user).values()]


def get_company_for(user, reference: str | int | None, permission: str = "company.view") -> Company:
    """Resolve a company by code or id, as the user may see it, and check the permission."""
    if reference in (None, ""):
        raise NotFound("No company given.", code="company.required")
    for membership in memberships(user).values():
        company = membership.company
        if str(company.pk) == str(reference) or company.code == str(reference):
            require_permission(user, company, permission)
            return company
    raise NotFound(f"No company '{reference}' that you belong to.", code="company.not_found")


def scope(queryset: models.QuerySet[M], user, permission: str, *, company: Company | None = None) -> models.QuerySet[M]:
    """Narrow a company-owned queryset to one company (checked) or all permitted ones."""
    if company is not None:
        require_permission(user, company, permission)
        return queryset.filter(company_id=company.pk)
    return queryset.filter(company_id__in=company_ids_with_permission(user, permission))


def get_visible(queryset: models.QuerySet[M], user, permission: str, *, company: Company | None = None, **lookup) -> M:
    """Fetch one record the user may see, or NotFound: the same answer for 'absent' and 'elsewhere'."""
    try:
        return scope(queryset, user, permission, company=company).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No such {queryset.model._meta.verbose_name}.", code="record.not_found")


def users_in(company: Company) -> Iterable:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(memberships__company=company, memberships__is_active=True)
