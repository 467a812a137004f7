"""Django admin for KPI targets."""

from django.contrib import admin

from keel.insights.models import KpiTarget


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    list_display = ("company", "kpi_code", "target", "updated_at")
    list_filter = ("company",)
    search_fields = ("kpi_code",)
