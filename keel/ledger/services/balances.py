"""Running balances per (company, account, period, currency), kept in the posting transaction.

Posting aggregates an entry's (or a batch's) lines per key and applies one atomic upsert per
key, `INSERT ... ON CONFLICT (key) DO UPDATE SET debit = ledger_balance.debit + excluded.debit`,
in key order: on PostgreSQL concurrent posters on the same accounts queue on the row lock
and never lose an update, and the fixed order means they cannot deadlock on each other;
on SQLite writers are serialised by the IMMEDIATE transaction. `verify_balances` recomputes
the table from the posted lines and lists every difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count

from keel.core.db_money import MoneySum, decimal_add_sql
from keel.core.models import Company
from keel.ledger.choices import EntryStatus
from keel.ledger.models import Balance, Line

BalanceKey = tuple[int, int, str]  # account_id, period_id, currency
ZERO = Decimal(0)


def aggregate(lines: Iterable[tuple[int, int, str, Decimal, Decimal, Decimal]]) -> dict[BalanceKey, list]:
    """(account, period, currency, debit, credit, amount_currency) rows -> totals per key."""
    totals: dict[BalanceKey, list] = {}
    for account_id, period_id, currency, debit, credit, amount_currency in lines:
        key = (account_id, period_id, currency)
        row = totals.get(key)
        if row is None:
            totals[key] = [debit, credit, amount_currency, 1]
        else:
            row[0] += debit
            row[1] += credit
            row[2] += amount_currency
            row[3] += 1
    return totals


def _upsert_sql() -> str:
    def add(column: str) -> str:
        return f"{column} = {decimal_add_sql(connection, f'ledger_balance.{column}', f'excluded.{column}')}"

    return (
        "INSERT INTO ledger_balance (company_id, account_id, period_id, currency_id, debit, credit, amount_currency, "
        "line_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (company_id, account_id, period_id, currency_id) DO UPDATE SET "
        f"{add('debit')}, {add('credit')}, {add('amount_currency')}, "
        "line_count = ledger_balance.line_count + excluded.line_count"
    )


def apply(company_id: int, totals: dict[BalanceKey, list]) -> None:
    """Add the totals to the balance rows (creating missing ones), in key order."""
    if not totals:
        return
    adapt = str if connection.vendor == "sqlite" else (lambda v: v)
    rows = [
        (company_id, account_id, period_id, currency, adapt(t[0]), adapt(t[1]), adapt(t[2]), t[3])
        for (account_id, period_id, currency), t in sorted(totals.items())
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_upsert_sql(), rows)


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
class VerifyReport:
    company_id: int
    keys_checked: int = 0
    differences: list[BalanceDifference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences


def verify_balances(company: Company | int) -> VerifyReport:
    """Recompute every balance of a company from its posted lines; report each difference."""
    company_id = company if isinstance(company, int) else company.pk
    recomputed = {
        (r["account_id"], r["period_id"], r["currency_id"]): (
            r["d"] or ZERO, r["c"] or ZERO, r["a"] or ZERO, r["n"]
        )
        for r in Line.objects.filter(company_id=company_id)
        .exclude(entry__status=EntryStatus.DRAFT)
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
    return report
