"""The KPIs' API schemas; values and targets are Decimals, served as strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema

from keel.api.schemas import ApiDate, FilterSchema, InputSchema


class KpiRange(FilterSchema):
    date_from: ApiDate | None = Field(None, description="Default: 29 days before date_to.")
    date_to: ApiDate | None = Field(None, description="Default: today.")


class KpiOut(Schema):
    code: str
    name: str
    unit: str
    description: str
    department: str
    higher_is_better: bool
    value: Decimal | None
    target: Decimal | None
    on_target: bool | None


class KpiPoint(Schema):
    date: dt.date
    value: Decimal | None


class KpiPart(Schema):
    label: str
    value: Decimal | None


class KpiSeriesOut(Schema):
    code: str
    name: str
    unit: str
    date_from: dt.date
    date_to: dt.date
    points: list[KpiPoint]
    breakdown: list[KpiPart]


class KpiTargetIn(InputSchema):
    target: Annotated[Decimal, Field(max_digits=20, decimal_places=4)]


class KpiTargetOut(Schema):
    kpi_code: str
    target: Decimal
    updated_at: dt.datetime
