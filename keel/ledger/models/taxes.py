"""The ledger's taxes and currencies models: period-end revaluations (see models/__init__.py).

Tax codes themselves live in books.py (TaxCode), since journal lines refer to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from keel.core.models import CompanyOwned
from keel.ledger.choices import RevaluationStatus
from keel.ledger.models.books import AMOUNT, Entry

__all__ = ["Revaluation"]


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
