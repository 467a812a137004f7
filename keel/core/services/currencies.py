"""Exchange rates and the rate lookup every department uses."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from keel.core import events
from keel.core.access import require_permission
from keel.core.activity import record
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company, Currency, ExchangeRate
from keel.core.money import parse_amount

RATE_SET = events.declare("core.exchange_rate_set", "An exchange rate was entered or corrected")


def get_currency(code: str, *, field: str = "currency") -> Currency:
    currency = Currency.objects.filter(code=str(code or "").strip().upper(), is_active=True).first()
    if currency is None:
        raise ValidationFailed(f"'{code}' is not a known currency.", code="currency.unknown", field=field)
    return currency


def get_rate(*, company: Company, currency: str, on_date: dt.date) -> Decimal:
    """The latest rate on or before `on_date`: base-currency units for one unit of `currency`."""
    code = str(currency).upper()
    if code == company.base_currency_id:
        return Decimal(1)
    rate = (
        ExchangeRate.objects.for_company(company)
        .filter(currency_id=code, date__lte=on_date)
        .order_by("-date")
        .values_list("rate", flat=True)
        .first()
    )
    if rate is None:
        raise NotFound(
            f"No {code} exchange rate on or before {on_date.isoformat()} for {company.code}; enter one first.",
            code="rate.not_found",
            field="currency",
        )
    return rate


MAX_RATE = Decimal(10) ** 10  # Decimal(20, 10): ten digits before the point


def parse_rate(rate, *, field: str = "rate") -> Decimal:
    """An exchange rate (units of the company's currency for one foreign unit), read by the
    core number parser: positive, below 10**10, at most 10 decimals; refused with rate.invalid."""
    try:
        value = parse_amount(rate, decimals=10, field=field, label="rate")
    except ValidationFailed as error:
        if error.code == "money.not_a_number":
            raise ValidationFailed(error.message, code="rate.invalid", field=field)
        value = None
    if value is None or value >= MAX_RATE or value.as_tuple().exponent < -10:
        raise ValidationFailed("A rate has at most 10 digits before and after the point.", code="rate.invalid",
                               field=field)
    if value <= 0:
        raise ValidationFailed("A rate is a positive number.", code="rate.invalid", field=field)
    return value


def set_rate(*, actor, company: Company, currency: str, on_date: dt.date, rate, source: str = "manual") -> ExchangeRate:
    require_permission(actor, company, "currency.manage")
    currency_obj = get_currency(currency)
    if currency_obj.code == company.base_currency_id:
        raise ValidationFailed("The base currency's rate is always 1.", code="rate.base_currency", field="currency")
    value = parse_rate(rate)
    with transaction.atomic():
        obj, created = ExchangeRate.objects.update_or_create(
            company=company, currency=currency_obj, date=on_date, defaults={"rate": value, "source": source[:50]}
        )
        record(company=company, actor=actor, verb=RATE_SET.name, subject=obj,
               data={"currency": currency_obj.code, "date": on_date, "rate": value, "created": created})
    return obj
