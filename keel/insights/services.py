"""Verbs of insights: KPI targets."""

from __future__ import annotations

from django.db import transaction

from keel.core.access import require_permission
from keel.core.activity import record
from keel.core.events import declare
from keel.core.exceptions import ValidationFailed
from keel.core.money import parse_amount
from keel.insights.models import KpiTarget
from keel.insights.registry import get_kpi

TARGET_SET = declare("insights.kpi_target_set", "A KPI target was set or changed")


def set_target(*, actor, company, kpi_code: str, target) -> KpiTarget:
    require_permission(actor, company, "kpi.manage")
    if get_kpi(kpi_code) is None:
        raise ValidationFailed(f"No KPI '{kpi_code}'.", code="kpi.unknown", field="kpi_code")
    # The core parser: a target larger than what Keel stores exactly is money.too_large.
    value = parse_amount(target, field="target", label="target")
    with transaction.atomic():
        obj, _ = KpiTarget.objects.update_or_create(company=company, kpi_code=kpi_code, defaults={"target": value})
        record(company=company, actor=actor, verb=TARGET_SET.name, subject=obj, data={"kpi": kpi_code, "target": value})
    return obj
