"""The ledger's taxes and currencies models: the components of tax groups, the return's
boxes and filing frequency, filed tax returns, period-end revaluations (see models/__init__.py).

Tax codes themselves live in books.py (TaxCode), since journal lines refer to them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from keel.core.models import CompanyOwned
from keel.ledger.choices import FilingFrequency, RevaluationStatus, TaxRole
from keel.ledger.models.books import AMOUNT, Entry, TaxCode

__all__ = ["Revaluation", "TaxBox", "TaxCodeComponent", "TaxReturn", "TaxReturnBox", "TaxReturnLine", "TaxSettings"]


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


class TaxSettings(CompanyOwned):
    """The company's tax settings, kept by the ledger (keel/core does not know taxes): how
    often it files its return. A company without a row files quarterly."""

    view_permission = "tax.view"

    filing_frequency = models.CharField(max_length=10, choices=FilingFrequency.choices,
                                        default=FilingFrequency.QUARTERLY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company"], name="ledger_tax_settings_one_per_company"),
            models.CheckConstraint(condition=Q(filing_frequency__in=FilingFrequency.values),
                                   name="ledger_tax_settings_frequency_valid"),
        ]

    def __str__(self) -> str:
        return f"Tax settings ({self.filing_frequency})"


class TaxBox(CompanyOwned):
    """A box of the company's tax return: its official name, and for a box that is a total of
    others (UK box 3 = 1 + 2, box 5 = 3 - 4) the formula, e.g. "1+2" or "3-4".

    Codes name the boxes their base and tax fill (TaxCode.base_box, tax_box); a box without a
    row here is still shown, by its number only. A total names boxes that come before it.
    """

    view_permission = "tax.view"

    box = models.CharField(max_length=20)
    name = models.CharField(max_length=300)
    total_of = models.CharField(max_length=200, blank=True, help_text='Boxes added or subtracted, e.g. "3-4".')

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "box"], name="ledger_tax_box_unique")]

    def __str__(self) -> str:
        return f"Box {self.box}"


class TaxReturn(CompanyOwned):
    """A filed tax return: the figures of a period as they were filed, kept as they are.

    Its boxes and lines (TaxReturnBox, TaxReturnLine) are written once by
    services/taxes/returns.py and never changed: a later change of a code's boxes, of a box's
    name, or a posting into the period leaves them as filed; the return page shows what the
    ledger says now next to them, as the difference to file. `setup` keeps the codes' boxes
    and the box definitions it was computed with, so that difference is only postings.
    A period is filed once: filed returns of a company do not overlap.
    """

    view_permission = "tax.view"

    date_from = models.DateField()
    date_to = models.DateField()
    currency = models.CharField(max_length=3)
    net_payable = models.DecimalField(**AMOUNT, help_text="Tax collected minus tax deductible; negative: to reclaim.")
    # Per tax code as filed: [{"code", "name", "kind", "base", "tax"}] (amounts as strings).
    code_figures = models.JSONField(default=list, blank=True)
    # What the figures were computed with: {"codes": {id: {...}}, "boxes": [{"box", "name", "total_of"}]}.
    setup = models.JSONField(default=dict, blank=True)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")
    filed_at = models.DateTimeField()

    class Meta:
        ordering = ["-date_from", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "date_from"], name="ledger_tax_return_period_unique"),
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")), name="ledger_tax_return_dates"),
        ]

    def __str__(self) -> str:
        return f"Tax return {self.date_from.isoformat()} – {self.date_to.isoformat()}"


class TaxReturnBox(CompanyOwned):
    """One box of a filed return: its name and figure as filed."""

    view_permission = "tax.view"

    tax_return = models.ForeignKey(TaxReturn, on_delete=models.CASCADE, related_name="boxes")
    position = models.PositiveIntegerField()
    box = models.CharField(max_length=20)
    name = models.CharField(max_length=300, blank=True)
    amount = models.DecimalField(**AMOUNT)
    is_total = models.BooleanField(default=False)

    class Meta:
        ordering = ["tax_return_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["company", "tax_return", "box"], name="ledger_tax_return_box_unique"),
        ]

    def __str__(self) -> str:
        return f"Box {self.box}: {self.amount}"


class TaxReturnLine(CompanyOwned):
    """What one tax code (a group, for its base) and role put into a box of a filed return."""

    view_permission = "tax.view"

    tax_return = models.ForeignKey(TaxReturn, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    box = models.CharField(max_length=20)
    tax_code = models.ForeignKey(TaxCode, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=TaxRole.choices)
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        ordering = ["tax_return_id", "position"]

    def __str__(self) -> str:
        return f"Box {self.box}: {self.tax_code_id} {self.role} {self.amount}"
