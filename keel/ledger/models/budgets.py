"""The ledger's budgets: planned amounts per account (and cost centre) and month of a fiscal year.

Amounts are in the account's natural sign, as an accountant writes a budget: income and
liabilities/equity positive on the credit side, expenses and assets positive on the debit
side. The budget-versus-actual report (keel.ledger.reports) compares them with the ledger
in the same sign.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from keel.core.models import CompanyOwned
from keel.ledger.models.books import AMOUNT


class BudgetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"


class Budget(CompanyOwned):
    """A named plan for one fiscal year: drafted, edited, then approved (approved budgets are frozen)."""

    view_permission = "ledger.view"

    name = models.CharField(max_length=100)
    fiscal_year = models.ForeignKey("ledger.FiscalYear", on_delete=models.PROTECT, related_name="budgets")
    status = models.CharField(max_length=10, choices=BudgetStatus.choices, default=BudgetStatus.DRAFT)
    description = models.TextField(blank=True, max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-fiscal_year__year", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "fiscal_year", "name"], name="ledger_budget_name_unique"),
            models.CheckConstraint(condition=Q(status__in=BudgetStatus.values), name="ledger_budget_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (FY{self.fiscal_year.year})" if self.fiscal_year_id else self.name

    @property
    def is_draft(self) -> bool:
        return self.status == BudgetStatus.DRAFT


class BudgetLine(CompanyOwned):
    """The planned amount of one account (optionally one cost centre) for one month (period)."""

    view_permission = "ledger.view"

    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="lines")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="+")
    cost_centre = models.ForeignKey("ledger.CostCentre", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    period = models.ForeignKey("ledger.Period", on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(default=0, **AMOUNT)

    class Meta:
        ordering = ["budget_id", "account__code", "period__start", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "budget", "account", "cost_centre", "period"],
                condition=Q(cost_centre__isnull=False), name="ledger_budget_line_unique",
            ),
            models.UniqueConstraint(
                fields=["company", "budget", "account", "period"],
                condition=Q(cost_centre__isnull=True), name="ledger_budget_line_unique_no_centre",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.budget_id}/{self.account_id}/{self.period_id}: {self.amount}"


__all__ = ["Budget", "BudgetLine", "BudgetStatus"]
