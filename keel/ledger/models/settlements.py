"""Settlements of open items: lines of one receivable or payable item (account, party,
currency) matched together, wholly or in part, such as an invoice and its payment; in a
foreign currency with the realized exchange difference between their booked values posted
(services/settlements.py). Each settled line is an allocation with its amounts, so a line
partly settled keeps the rest open.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from keel.core.models import CompanyOwned
from keel.ledger.choices import SettlementStatus
from keel.ledger.models.books import AMOUNT, Account, Entry, Line

__all__ = ["SettledLine", "Settlement"]


class Settlement(CompanyOwned):
    """Allocations of lines of one item (account, party, currency) settled together: the
    allocated amounts (in the item's currency) add up to zero, and `entry` brings their base
    values to zero as well (the realized gain or loss; none in the company's currency, or
    when they were booked at the same value)."""

    view_permission = "ledger.view"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    party = models.ForeignKey("core.Party", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    date = models.DateField(help_text="The date the realized difference is posted on.")
    status = models.CharField(max_length=10, choices=SettlementStatus.choices, default=SettlementStatus.POSTED)
    amount_currency = models.DecimalField(**AMOUNT, help_text="The amount settled in the item's currency (the debit side's total).")
    # In the company's currency: positive is a gain on the item, negative a loss.
    difference = models.DecimalField(default=0, **AMOUNT)
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reversal = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=SettlementStatus.values), name="ledger_settlement_status_valid"),
            models.CheckConstraint(condition=Q(amount_currency__gt=0), name="ledger_settlement_amount_positive"),
        ]
        indexes = [models.Index(fields=["company", "account", "date"], name="ledger_settlement_account")]

    def __str__(self) -> str:
        return f"Settlement #{self.pk}"


class SettledLine(CompanyOwned):
    """An allocation: the part of a journal line taken by a settlement, signed like the line.
    A line's open amount is its amount less its active allocations. The allocation that takes
    the rest of its line `closes_line` (open items are the lines no such allocation closes);
    the database takes one closing allocation per line, so two clerks settling the same
    invoice cannot both close it."""

    view_permission = "ledger.view"

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="settled_lines")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    amount_currency = models.DecimalField(default=0, help_text="The part settled, in the line's currency (signed).",
                                          **AMOUNT)
    amount = models.DecimalField(default=0, help_text="Its booked value in the company's currency (signed).", **AMOUNT)
    closes_line = models.BooleanField(default=True, help_text="True when this allocation took the rest of the line.")
    is_active = models.BooleanField(default=True, help_text="False once the settlement is undone.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "line"], condition=Q(is_active=True, closes_line=True),
                                    name="ledger_settled_line_closed_once"),
            models.UniqueConstraint(fields=["company", "settlement", "line"], name="ledger_settled_line_unique"),
        ]
        indexes = [models.Index(fields=["company", "line"], condition=Q(is_active=True),
                                name="ledger_settled_line_active")]

    def __str__(self) -> str:
        return f"{self.settlement_id}: line {self.line_id} {self.amount_currency}"
