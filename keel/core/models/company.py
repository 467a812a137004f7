from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models


class Company(models.Model):
    """A legal entity whose books and records Keel keeps; the root of all scoping."""

    company_scope_exempt = "the company is the scope itself"
    view_permission = "company.view"

    code = models.SlugField(
        max_length=32,
        unique=True,
        help_text="Short handle used in URLs, the API header X-Keel-Company and the CLI.",
    )
    legal_name = models.CharField(max_length=200)
    country = models.CharField(
        max_length=2, validators=[RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 country code.")]
    )
    base_currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    fiscal_year_start_month = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    registration_number = models.CharField(max_length=50, blank=True)
    tax_id = models.CharField(max_length=50, blank=True)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    logo = models.ImageField(upload_to="logos/", blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["legal_name"]
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fiscal_year_start_month__gte=1, fiscal_year_start_month__lte=12),
                name="core_company_fiscal_month_valid",
            )
        ]

    def __str__(self) -> str:
        return self.legal_name

    def fiscal_year_of(self, day: dt.date) -> int:
        """The fiscal year a date falls in, named by the calendar year the fiscal year starts."""
        return day.year if day.month >= self.fiscal_year_start_month else day.year - 1

    def fiscal_year_bounds(self, fiscal_year: int) -> tuple[dt.date, dt.date]:
        start = dt.date(fiscal_year, self.fiscal_year_start_month, 1)
        end_month_start = dt.date(fiscal_year + 1, self.fiscal_year_start_month, 1)
        return start, end_month_start - dt.timedelta(days=1)
