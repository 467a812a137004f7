from __future__ import annotations

from django.db import models

from keel.core.models import CompanyOwned


class KpiTarget(CompanyOwned):
    """The value a company aims for on one KPI."""

    view_permission = "kpi.view"

    kpi_code = models.CharField(max_length=100)
    target = models.DecimalField(max_digits=20, decimal_places=4)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "kpi_code"], name="insights_target_unique")]

    def __str__(self) -> str:
        return f"{self.kpi_code} -> {self.target}"
