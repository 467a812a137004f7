from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from keel.core.models.base import CompanyOwned


class Currency(models.Model):
    """An ISO 4217 currency; global reference data shared by every company."""

    company_scope_exempt = "ISO 4217 reference data, the same for every company"

    code = models.CharField(
        primary_key=True, max_length=3, validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")]
    )
    name = models.CharField(max_length=100)
    decimals = models.PositiveSmallIntegerField(default=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "currencies"

    def __str__(self) -> str:
        return self.code


class ExchangeRate(CompanyOwned):
    """How many units of the company's base currency one unit of `currency` cost on `date`."""

    view_permission = "currency.view"

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    rate = models.DecimalField(max_digits=20, decimal_places=10, validators=[MinValueValidator(0)])
    source = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "currency_id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "currency", "date"], name="core_rate_unique_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="core_rate_positive"),
        ]
        indexes = [models.Index(fields=["company", "currency", "-date"], name="core_rate_lookup")]

    def __str__(self) -> str:
        return f"{self.currency_id} {self.rate} on {self.date}"
