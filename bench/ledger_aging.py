"""Benchmark open items and aging at a million journal lines, on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_aging.py                       # both engines, 1,000,000 lines
    .venv/bin/python bench/ledger_aging.py --lines 200000 --engine sqlite

Posts sales invoices (receivable line with a party and a due date, income line) and customer
receipts (bank line, receivable line) for 2,000 customers over FY2026 through
post_entries_bulk, settles a share of them, then times the aging of all customers, one
party's open items and balance (the party page's panel) and the first page of the open items
list: the median of 7 runs after a warm-up, with the number of SQL queries, which must not
grow with the number of parties (one grouped query, not one per party).
Prints figures, not pass/fail: these machines are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from ledger_posting import PG_SERVER, pg_admin  # noqa: E402  (shared bench scaffolding)

PG_NAME = "keel_bench_aging"
PARTIES = 2000


def run_engine(engine: str, args) -> None:
    env = dict(os.environ)
    path = ROOT / "var" / "bench" / "aging.sqlite3"
    if engine == "sqlite":
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["KEEL_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME}")
        pg_admin(f"CREATE DATABASE {PG_NAME}")
        env["KEEL_DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    try:
        subprocess.run([sys.executable, __file__, "--worker", "--lines", str(args.lines)], env=env, check=True,
                       cwd=ROOT)
    finally:
        if engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def entries_for(parties: list[int], count_lines: int, offset: int):
    """Two-line entries: three invoices for every receipt; each invoice due 30 days on."""
    from keel.ledger.services import EntryInput, LineInput

    entries = []
    for i in range(count_lines // 2):
        n = offset + i
        day = dt.date(2026, n % 12 + 1, n % 28 + 1)
        party = parties[(n // 4) % len(parties)]  # each customer: three invoices, then a receipt
        amount = Decimal(f"{(n * 7) % 9000 + 1}.{n % 100:02d}")
        if n % 4 == 3:
            lines = [LineInput(account="1400", debit=amount),
                     LineInput(account="1200", credit=amount, party=party)]
            entries.append(EntryInput(journal="BNK", date=day, lines=lines, reference=f"R{n}"))
        else:
            lines = [LineInput(account="1200", debit=amount, party=party, due_date=day + dt.timedelta(days=30)),
                     LineInput(account="4000", credit=amount)]
            entries.append(EntryInput(journal="SAL", date=day, lines=lines, reference=f"I{n}"))
    return entries


def worker(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    os.environ["KEEL_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from keel.core.models import Party
    from keel.core.services.companies import create_company
    from keel.ledger.models import Line
    from keel.ledger.reports.aging import get_aging, party_balances, party_open_lines
    from keel.ledger.services import ensure_fiscal_year, post_entries_bulk
    from keel.ledger.services.settlements import (
        Allocation,
        list_open_items,
        open_amounts,
        settle_open_items,
    )

    call_command("migrate", verbosity=0)
    print(f"== {connection.vendor} ({connection.settings_dict['NAME']})")
    company = create_company(actor=None, code="bench", legal_name="Bench", country="GB", base_currency="EUR")
    for year in (2025, 2026):
        ensure_fiscal_year(company=company, fiscal_year=year)
    Party.objects.bulk_create([Party(company=company, name=f"Customer {n:05d}") for n in range(PARTIES)])
    parties = list(Party.objects.for_company(company).order_by("pk").values_list("pk", flat=True))
    posted, start = 0, time.perf_counter()
    while posted < args.lines:
        batch = entries_for(parties, min(100_000, args.lines - posted), offset=posted // 2)
        posted += post_entries_bulk(actor=None, company=company, entries=batch, check_permission=False).lines
    print(f"posted {posted:,} lines for {len(parties):,} customers in {time.perf_counter() - start:.0f} s")
    # Settle each of the first 500 customers' first receipt against part of its first invoice.
    start = time.perf_counter()
    settled = 0
    for party in parties[:500]:
        lines = list(Line.objects.for_company(company).filter(party_id=party, account__code="1200")
                     .order_by("date", "id").values_list("pk", "amount_currency"))
        invoices = [(pk, amount) for pk, amount in lines if amount > 0]
        receipts = [(pk, amount) for pk, amount in lines if amount < 0]
        if invoices and receipts:
            part = min(invoices[0][1], -receipts[0][1])
            settle_open_items(actor=None, company=company, check_permission=False, allocations=[
                Allocation(invoices[0][0], part), Allocation(receipts[0][0], part)])
            settled += 1
    print(f"settled {settled} items in {time.perf_counter() - start:.1f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def timed(label: str, call) -> None:
        call()  # warm
        reset_queries()  # the settlements above filled the query log
        with CaptureQueriesContext(connection) as queries:
            call()
        runs = []
        for _ in range(7):
            begin = time.perf_counter()
            call()
            runs.append((time.perf_counter() - begin) * 1000)
        print(f"  {label}: {statistics.median(runs):.1f} ms median (min {min(runs):.1f}), {len(queries)} queries")

    as_of = dt.date(2026, 12, 31)
    party = parties[7]
    timed(f"aging of all {len(parties):,} customers as of {as_of}", lambda: get_aging(company, kind="receivable",
                                                                                      as_of=as_of))
    timed("aging of one customer", lambda: get_aging(company, kind="receivable", as_of=as_of, party_id=party))
    timed("one customer's balance", lambda: party_balances(company, party))
    timed("one customer's 20 oldest open items", lambda: party_open_lines(company, party, as_of, limit=20))
    timed("open items list, first page of 50 with open amounts", lambda: open_amounts(
        company, list_open_items(company).order_by("account__code", "party_id", "date", "id")[:50]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        sys.path.insert(0, str(ROOT))
        worker(args)
        return
    for engine in (["sqlite", "postgresql"] if args.engine == "both" else [args.engine]):
        run_engine(engine, args)


if __name__ == "__main__":
    main()
