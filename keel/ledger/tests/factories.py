"""Helpers to build ledger data in tests (through the services, as real code does)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from keel.core.models import Company, Party
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


# The template chart's receivable and payable accounts: a line on them names its party.
PARTY_NAMES = {"1200": "Test Customer Ltd", "2100": "Test Supplier Ltd"}


def party_for(company: Company, account) -> int | None:
    """The party of a test line on `account`: a customer on 1200, a supplier on 2100, else none."""
    name = PARTY_NAMES.get(str(account))
    if name is None:
        return None
    found = Party.objects.filter(company=company, name=name).order_by("pk").values_list("pk", flat=True).first()
    return found if found is not None else Party.objects.create(company=company, name=name).pk


def lines(*pairs, company: Company | None = None) -> list[LineInput]:
    """lines(("1400", "100.00", "0"), ("4000", "0", "100.00")); with `company`, lines on
    receivable and payable accounts get its test customer or supplier."""
    return [LineInput(account=code, debit=Decimal(debit), credit=Decimal(credit),
                      party=party_for(company, code) if company is not None else None)
            for code, debit, credit in pairs]


def sale(amount: str = "100.00", *, company: Company | None = None) -> list[LineInput]:
    return lines(("1200", amount, "0"), ("4000", "0", amount), company=company)


def post_sale(company: Company, actor=None, *, amount: str = "100.00", day: dt.date = DAY, journal: str = "SAL"):
    return post_entry(actor=actor, company=company, journal=journal, date=day, lines=sale(amount, company=company),
                      check_permission=actor is not None)
