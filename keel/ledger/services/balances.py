"""Running balances per (company, account, period, currency), and per (company, account,
day) in the company's currency, kept in the posting transaction.

Posting aggregates an entry's (or a batch's) lines per key and applies one atomic upsert per
key, `INSERT ... ON CONFLICT (key) DO UPDATE SET debit = ledger_balance.debit + excluded.debit`,
in key order: on PostgreSQL concurrent posters on the same accounts queue on the row lock
and never lose an update, and the fixed order means they cannot deadlock on each other;
on SQLite writers are serialised by the IMMEDIATE transaction. `verify_balances` recomputes
both tables from the posted lines and lists every difference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from keel.core.db_money import MoneySum, decimal_add_sql
from keel.core.models import Company
from keel.ledger.digest import EntryDigestDifference, verify_entry_digests
from keel.ledger.models import Balance, DayBalance, Line

BalanceKey = tuple[int, int, str]  # account_id, period_id, currency
DayKey = tuple[int, dt.date]  # account_id, date


@dataclass
class Totals:
    periods: dict[BalanceKey, list]  # [debit, credit, amount_currency, line count]
    days: dict[DayKey, list]  # [debit, credit, line count]
ZERO = Decimal(0)


def aggregate(lines: Iterable[tuple[int, int, str, Decimal, Decimal, Decimal, dt.date]]) -> Totals:
    """(account, period, currency, debit, credit, amount_currency, date) rows -> totals per
    balance key and per account and day."""
    totals: dict[BalanceKey, list] = {}
    days: dict[DayKey, list] = {}
    for account_id, period_id, currency, debit, credit, amount_currency, day in lines:
        key = (account_id, period_id, currency)
        row = totals.get(key)
        if row is None:
            totals[key] = [debit, credit, amount_currency, 1]
        else:
            row[0] += debit
            row[1] += credit
            row[2] += amount_currency
            row[3] += 1
        day_key = (account_id, day)
        row = days.get(day_key)
        if row is None:
            days[day_key] = [debit, credit, 1]
        else:
            row[0] += debit
            row[1] += credit
            row[2] += 1
    return Totals(totals, days)


def _add(column: str, table: str) -> str:
    return f"{column} = {decimal_add_sql(connection, f'{table}.{column}', f'excluded.{column}')}"


def _upsert_sql() -> str:
    return (
        "INSERT INTO ledger_balance (company_id, account_id, period_id, currency_id, debit, credit, amount_currency, "
        "line_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (company_id, account_id, period_id, currency_id) DO UPDATE SET "
        f"{_add('debit', 'ledger_balance')}, {_add('credit', 'ledger_balance')}, "
        f"{_add('amount_currency', 'ledger_balance')}, line_count = ledger_balance.line_count + excluded.line_count"
    )


def _day_upsert_sql() -> str:
    return (
        "INSERT INTO ledger_daybalance (company_id, date, account_id, debit, credit, line_count) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (company_id, date, account_id) DO UPDATE SET "
        f"{_add('debit', 'ledger_daybalance')}, {_add('credit', 'ledger_daybalance')}, "
        "line_count = ledger_daybalance.line_count + excluded.line_count"
    )


def apply(company_id: int, totals: Totals) -> None:
    """Add the totals to the balance and day-balance rows (creating missing ones), each in key
    order, so that concurrent posters lock rows in the same order."""
    adapt = str if connection.vendor == "sqlite" else (lambda v: v)
    with connection.cursor() as cursor:
        if totals.periods:
            cursor.executemany(_upsert_sql(), [
                (company_id, account_id, period_id, currency, adapt(t[0]), adapt(t[1]), adapt(t[2]), t[3])
                for (account_id, period_id, currency), t in sorted(totals.periods.items())
            ])
        if totals.days:
            cursor.executemany(_day_upsert_sql(), [
                (company_id, day, account_id, adapt(t[0]), adapt(t[1]), t[2])
                for (account_id, day), t in sorted(totals.days.items(), key=lambda item: (item[0][1], item[0][0]))
            ])


@dataclass
class BalanceDifference:
    account_id: int
    period_id: int
    currency: str
    stored: tuple[Decimal, Decimal, Decimal, int]
    recomputed: tuple[Decimal, Decimal, Decimal, int]

    def __str__(self) -> str:
        return (f"account {self.account_id} period {self.period_id} {self.currency}: stored "
                f"D{self.stored[0]} C{self.stored[1]} ({self.stored[3]} lines), lines say "
                f"D{self.recomputed[0]} C{self.recomputed[1]} ({self.recomputed[3]} lines)")


@dataclass
class DayBalanceDifference:
    account_id: int
    date: dt.date
    stored: tuple[Decimal, Decimal, int]
    recomputed: tuple[Decimal, Decimal, int]

    def __str__(self) -> str:
        return (f"account {self.account_id} on {self.date}: stored D{self.stored[0]} C{self.stored[1]} "
                f"({self.stored[2]} lines), lines say D{self.recomputed[0]} C{self.recomputed[1]} "
                f"({self.recomputed[2]} lines)")


@dataclass
class VerifyReport:
    company_id: int
    keys_checked: int = 0
    differences: list[BalanceDifference | DayBalanceDifference] = field(default_factory=list)
    # Posted entries whose content no longer gives the digest recorded at posting.
    entries_checked: int = 0
    changed_entries: list[EntryDigestDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences and not self.changed_entries


def verify_balances(company: Company | int, *, entries: bool = True) -> VerifyReport:
    """Recompute every balance of a company from its posted lines, and (with `entries`) every
    posted entry's digest from its rows; report each difference."""
    company_id = company if isinstance(company, int) else company.pk
    recomputed = {
        (r["account_id"], r["period_id"], r["currency_id"]): (
            r["d"] or ZERO, r["c"] or ZERO, r["a"] or ZERO, r["n"]
        )
        for r in Line.objects.filter(company_id=company_id)
        .posted()
        .values("account_id", "period_id", "currency_id")
        .annotate(d=MoneySum("debit"), c=MoneySum("credit"), a=MoneySum("amount_currency"), n=Count("id"))
        .order_by()
    }
    stored = {
        (b.account_id, b.period_id, b.currency_id): (b.debit, b.credit, b.amount_currency, b.line_count)
        for b in Balance.objects.filter(company_id=company_id)
    }
    report = VerifyReport(company_id=company_id)
    empty = (ZERO, ZERO, ZERO, 0)
    for key in sorted(set(recomputed) | set(stored)):
        report.keys_checked += 1
        have, want = stored.get(key, empty), recomputed.get(key, empty)
        if have != want:
            report.differences.append(BalanceDifference(*key, stored=have, recomputed=want))
    _verify_days(company_id, report)
    if entries:
        report.entries_checked, report.changed_entries = verify_entry_digests(company_id)
    return report


def _verify_days(company_id: int, report: VerifyReport) -> None:
    recomputed = {
        (r["account_id"], r["date"]): (r["d"] or ZERO, r["c"] or ZERO, r["n"])
        for r in Line.objects.filter(company_id=company_id).posted()
        .values("account_id", "date").annotate(d=MoneySum("debit"), c=MoneySum("credit"), n=Count("id")).order_by()
    }
    stored = {
        (b.account_id, b.date): (b.debit, b.credit, b.line_count)
        for b in DayBalance.objects.filter(company_id=company_id)
    }
    empty = (ZERO, ZERO, 0)
    for key in sorted(set(recomputed) | set(stored)):
        report.keys_checked += 1
        have, want = stored.get(key, empty), recomputed.get(key, empty)
        if have != want:
            report.differences.append(DayBalanceDifference(*key, stored=have, recomputed=want))
