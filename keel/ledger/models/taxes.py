"""The ledger's taxes and currencies models: the components of tax groups, period-end
revaluations (see models/__init__.py).

Tax codes themselves live in books.py (TaxCode), since journal lines refer to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from keel.core.models import CompanyOwned
from keel.ledger.choices import RevaluationStatus
from keel.ledger.models.books import AMOUNT, Entry, TaxCode

__all__ = ["Revaluation", "TaxCodeComponent"]


class TaxCodeComponent(CompanyOwned):
    """One tax of a tax group: a line taxed with the group (e.g. GST+QST) is taxed with each
    component (GST 5 %, QST 9.975 %) on the same base.

    Components are plain codes of the group's kind (no group in a group, checked by
    keel/ledger/services/taxes.py); they are fixed once a ledger line refers to the group,
    since the tax return reads the group's base lines through them.
    """

    view_permission = "tax.view"

    group = models.ForeignKey(TaxCode, on_delete=models.CASCADE, related_name="component_links")
    component = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="group_links")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["group_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "group", "component"], name="ledger_tax_component_unique"),
            models.CheckConstraint(condition=~Q(group=F("component")), name="ledger_tax_component_not_itself"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.component_id}"


class Revaluation(CompanyOwned):
    """The unrealized exchange differences posted at a period end, and their reversal.

    At most one posted revaluation per company and period end: revaluing again needs the
    previous one undone first (keel/ledger/services/revaluation.py).
    """

    view_permission = "ledger.view"

    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=RevaluationStatus.choices, default=RevaluationStatus.POSTED)
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    reversal = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="+")
    gain = models.DecimalField(default=0, **AMOUNT)
    loss = models.DecimalField(default=0, **AMOUNT)
    # Per (account, party, currency): the balance, its booked and revalued base amounts, the rate.
    details = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "period_end"], condition=Q(status=RevaluationStatus.POSTED),
                name="ledger_revaluation_one_posted",
            ),
            models.CheckConstraint(condition=Q(status__in=RevaluationStatus.values), name="ledger_revaluation_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Revaluation {self.period_end.isoformat()}"
