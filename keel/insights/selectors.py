"""KPI values, series and breakdowns for a company and a date range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from keel.core.models import Company
from keel.insights.models import KpiTarget
from keel.insights.registry import KPI, all_kpis


@dataclass
class KpiReading:
    kpi: KPI
    value: Decimal | None
    target: Decimal | None
    series: list[tuple[dt.date, Decimal | None]]
    breakdown: list[tuple[str, Decimal | None]]

    @property
    def on_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.kpi.higher_is_better else self.value <= self.target


def read_kpis(company: Company, date_from: dt.date, date_to: dt.date, *, codes: list[str] | None = None, with_series: bool = True) -> list[KpiReading]:
    targets = dict(KpiTarget.objects.for_company(company).values_list("kpi_code", "target"))
    readings = []
    for kpi in all_kpis():
        if codes and kpi.code not in codes:
            continue
        readings.append(
            KpiReading(
                kpi=kpi,
                value=kpi.compute(company, date_from, date_to),
                target=targets.get(kpi.code),
                series=kpi.daily_series(company, date_from, date_to) if with_series else [],
                breakdown=kpi.breakdown(company, date_from, date_to) if kpi.breakdown else [],
            )
        )
    return readings
