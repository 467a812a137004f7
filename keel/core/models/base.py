"""The company-scoping base every business model inherits.

A company-owned model gets `company` and a manager whose querysets are narrowed with
`.for_company(company)` or `.visible_to(user, permission)`; `keel.core.access` resolves who
may see what. `tests/test_scoping.py` walks every model and fails on one that is neither
company-owned nor exempt with a reason (`company_scope_exempt`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from keel.core.models.company import Company


class CompanyQuerySet(models.QuerySet):
    def for_company(self, company: Company | int) -> CompanyQuerySet:
        company_id = company if isinstance(company, int) else company.pk
        return self.filter(company_id=company_id)

    def for_companies(self, company_ids) -> CompanyQuerySet:
        return self.filter(company_id__in=list(company_ids))

    def visible_to(self, user, permission: str) -> CompanyQuerySet:
        """Rows of every company where the user's role grants `permission`."""
        from keel.core.access import company_ids_with_permission

        return self.filter(company_id__in=company_ids_with_permission(user, permission))


class CompanyOwned(models.Model):
    """Abstract base: the record belongs to one company."""

    company = models.ForeignKey("core.Company", on_delete=models.PROTECT, related_name="+")

    objects = CompanyQuerySet.as_manager()

    # The permission a user needs to see a record of this model (history, attachments).
    view_permission = "company.view"

    class Meta:
        abstract = True
