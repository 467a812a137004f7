from __future__ import annotations

from django.db import models

from keel.core.models.base import CompanyOwned


class NumberSequence(CompanyOwned):
    """A gapless numbering series of one company, e.g. invoices `INV-{year}-{number:05d}`."""

    view_permission = "company.view"

    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    pattern = models.CharField(
        max_length=100,
        default="{code}-{year}-{number:05d}",
        help_text="Placeholders: {code}, {prefix}, {year} (fiscal year) and {number}.",
    )
    prefix = models.CharField(max_length=20, blank=True)
    restart_each_fiscal_year = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="core_sequence_code_unique")]

    def __str__(self) -> str:
        return self.code


class SequenceCounter(CompanyOwned):
    """The last number handed out for a sequence in a fiscal year; locked while assigning."""

    view_permission = "company.view"

    sequence = models.ForeignKey(NumberSequence, on_delete=models.CASCADE, related_name="counters")
    fiscal_year = models.IntegerField()
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "sequence", "fiscal_year"], name="core_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.sequence_id}/{self.fiscal_year}: {self.last_value}"
