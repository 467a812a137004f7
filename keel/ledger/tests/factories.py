"""Helpers to build ledger data in tests (through the services, as real code does)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from keel.core.models import Company
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.chart import apply_chart_template
from keel.ledger.services.periods import ensure_fiscal_year

DAY = dt.date(2026, 3, 15)


def set_up_books(company: Company, *, years=(2025, 2026, 2027)) -> Company:
    """The small-business chart, journals and fiscal years (CompanyFactory skips create_company)."""
    apply_chart_template(company=company, actor=None, check_permission=False)
    for year in years:
        ensure_fiscal_year(company=company, fiscal_year=year)
    return company


def lines(*pairs) -> list[LineInput]:
    """lines(("1400", "100.00", "0"), ("4000", "0", "100.00"))"""
    return [LineInput(account=code, debit=Decimal(debit), credit=Decimal(credit)) for code, debit, credit in pairs]


def sale(amount: str = "100.00") -> list[LineInput]:
    return lines(("1200", amount, "0"), ("4000", "0", amount))


def post_sale(company: Company, actor=None, *, amount: str = "100.00", day: dt.date = DAY, journal: str = "SAL"):
    return post_entry(actor=actor, company=company, journal=journal, date=day, lines=sale(amount),
                      check_permission=actor is not None)
