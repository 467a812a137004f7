"""The KPI registry: apps add the measures of their part of the back office.

A KPI computes its value for a company and a date range, and a daily series; both from
activities or records with set-based queries. Register in an app's `kpis.py`, imported by
its AppConfig.ready():

    register(KPI(code="billing.invoice_turnaround", name=..., unit="hours", ...,
                 compute=..., series=...))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from keel.core.models import Company

Compute = Callable[[Company, dt.date, dt.date], Decimal | None]
Series = Callable[[Company, dt.date, dt.date], list[tuple[dt.date, Decimal | None]]]
Breakdown = Callable[[Company, dt.date, dt.date], list[tuple[str, Decimal | None]]]


@dataclass(frozen=True)
class KPI:
    code: str
    name: str
    unit: str
    description: str
    department: str
    compute: Compute
    series: Series | None = None
    breakdown: Breakdown | None = None
    higher_is_better: bool = True

    def daily_series(self, company: Company, date_from: dt.date, date_to: dt.date) -> list[tuple[dt.date, Decimal | None]]:
        if self.series is not None:
            return self.series(company, date_from, date_to)
        days = (date_to - date_from).days + 1
        return [(date_from + dt.timedelta(d), self.compute(company, date_from + dt.timedelta(d), date_from + dt.timedelta(d))) for d in range(days)]


_registry: dict[str, KPI] = {}


def register(kpi: KPI) -> KPI:
    if kpi.code in _registry and _registry[kpi.code] is not kpi:
        raise ValueError(f"KPI {kpi.code} is registered twice")
    _registry[kpi.code] = kpi
    return kpi


def all_kpis() -> list[KPI]:
    return sorted(_registry.values(), key=lambda k: (k.department, k.code))


def get_kpi(code: str) -> KPI | None:
    return _registry.get(code)
