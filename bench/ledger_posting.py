"""Benchmark the ledger's posting service and trial balance on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_posting.py                       # both engines, 100,000 lines
    .venv/bin/python bench/ledger_posting.py --lines 1000000       # the issue's figure
    .venv/bin/python bench/ledger_posting.py --engine sqlite

Prints: bulk posting (post_entries_bulk) in lines/s, at 10,000 lines and at --lines;
interactive posting (post_entry, one 2-line entry at a time) in ms each, over --singles
entries; the trial balance for a whole month, a whole year and a range cutting months,
at 10,000 lines and at --lines; the profit and loss and balance sheet (keel.ledger.reports)
at the same sizes; and `verify_balances` over the big ledger.

Uses a throwaway SQLite file under var/bench/ and a throwaway PostgreSQL database
(keel_bench_ledger on KEEL_BENCH_PG, default postgres://postgres@127.0.0.1:5432), both
created and removed by the script. Prints rates, not pass/fail: these machines are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("KEEL_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "keel_bench_ledger"


def pg_admin(sql: str) -> None:
    """Run one statement on the server's maintenance database (create/drop the bench database)."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def run_engine(engine: str, args) -> None:
    """Re-run this script for one engine in a fresh process (settings read the env once)."""
    env = dict(os.environ)
    if engine == "sqlite":
        path = ROOT / "var" / "bench" / "ledger.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["KEEL_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME}")
        pg_admin(f"CREATE DATABASE {PG_NAME}")
        env["KEEL_DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    try:
        subprocess.run(
            [sys.executable, __file__, "--worker", "--lines", str(args.lines), "--entry-lines", str(args.entry_lines),
             "--singles", str(args.singles)],
            env=env, check=True, cwd=ROOT,
        )
    finally:
        if engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def entries_for(count_lines: int, entry_lines: int, offset: int = 0, *, cost_centre: str | None = None):
    """Synthetic sales entries over 2026; with `cost_centre`, every fourth entry's first
    credit line carries it (bench/ledger_reports.py uses that for its cost-centre filter)."""
    from keel.ledger.services import EntryInput, LineInput

    credit_accounts = ["4000", "4100", "2200", "4900", "7100"]
    # 1210, not the receivables' 1200: a receivable line names its party, and these have none.
    debit_accounts = ["1210", "1400", "1450", "6100", "6200"]
    entries = []
    for i in range(count_lines // entry_lines):
        n = offset + i
        day = dt.date(2026, n % 12 + 1, n % 28 + 1)
        amounts = [Decimal(f"{(n * 7 + k * 13) % 9000 + 1}.{(n + k) % 100:02d}") for k in range(entry_lines - 1)]
        lines = [LineInput(account=debit_accounts[n % 5], debit=sum(amounts))]
        lines += [LineInput(account=credit_accounts[(n + k) % 5], credit=a,
                            cost_centre=cost_centre if cost_centre and k == 0 and n % 4 == 0 else None)
                  for k, a in enumerate(amounts)]
        entries.append(EntryInput(journal="SAL", date=day, lines=lines, reference=f"B{n}"))
    return entries


def worker(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    os.environ["KEEL_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from keel.core.services.companies import create_company
    from keel.ledger.selectors import trial_balance
    from keel.ledger.services import (
        LineInput,
        ensure_fiscal_year,
        post_entries_bulk,
        post_entry,
        verify_balances,
    )

    call_command("migrate", verbosity=0)
    print(f"== {connection.vendor} ({connection.settings_dict['NAME']})")

    def company(code):
        c = create_company(actor=None, code=code, legal_name=code, country="GB", base_currency="EUR")
        ensure_fiscal_year(company=c, fiscal_year=2026)
        return c

    def bulk(c, total, label):
        chunk = 100_000
        posted, elapsed = 0, 0.0
        while posted < total:
            batch = entries_for(min(chunk, total - posted), args.entry_lines, offset=posted // args.entry_lines)
            start = time.perf_counter()
            result = post_entries_bulk(actor=None, company=c, entries=batch, check_permission=False)
            elapsed += time.perf_counter() - start
            posted += result.lines
        target = "50,000" if connection.vendor == "sqlite" else "25,000"
        print(f"{label}: {posted:,} lines in {elapsed:.1f} s = {posted / elapsed:,.0f} lines/s "
              f"(target {target}; {args.entry_lines} lines per entry, validation + numbering + balances + activities)")

    def timed_ms(call, runs=5):
        call()  # warm
        start = time.perf_counter()
        for _ in range(runs):
            result = call()
        return (time.perf_counter() - start) * 1000 / runs, result

    ranges = [("month", dt.date(2026, 3, 1), dt.date(2026, 3, 31)),
              ("year", dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
              ("cut months", dt.date(2026, 3, 10), dt.date(2026, 9, 20))]

    def time_tb(c, label):
        for name, date_from, date_to in ranges:
            ms, report = timed_ms(lambda f=date_from, t=date_to: trial_balance(c, f, t))
            assert report.is_balanced
            print(f"trial balance {label}, whole {name} {date_from}..{date_to}: {ms:.1f} ms ({len(report.rows)} accounts)"
                  if name != "cut months" else
                  f"trial balance {label}, range cutting months {date_from}..{date_to}: {ms:.1f} ms")
        try:  # the reports step's statements, when present
            from keel.ledger.reports import balance_sheet, profit_and_loss, report_range
        except ImportError:
            return
        for name, date_from, date_to in ranges[:2]:
            period = report_range(c, date_from=date_from, date_to=date_to)
            ms, _ = timed_ms(lambda p=period: profit_and_loss(c, p))
            print(f"profit and loss {label}, whole {name}: {ms:.1f} ms")
            as_of = report_range(c, date_from=None, date_to=date_to, as_of=True)
            ms, _ = timed_ms(lambda p=as_of: balance_sheet(c, p))
            print(f"balance sheet {label}, as of {date_to}: {ms:.1f} ms")

    small = company("bench-small")
    bulk(small, 10_000, "bulk 10k")
    time_tb(small, "at 10k lines")

    big = company("bench-big")
    bulk(big, args.lines, f"bulk {args.lines:,}")
    time_tb(big, f"at {args.lines:,} lines")

    singles = args.singles
    start = time.perf_counter()
    for i in range(singles):
        post_entry(actor=None, company=big, journal="GEN", date=dt.date(2026, 6, i % 28 + 1), check_permission=False,
                   lines=[LineInput(account="6100", debit=Decimal("12.34")), LineInput(account="1400", credit=Decimal("12.34"))])
    ms = (time.perf_counter() - start) * 1000 / singles
    print(f"single interactive post_entry: {ms:.2f} ms each ({singles} posts, 2 lines, on a ledger of {args.lines:,} lines)")

    start = time.perf_counter()
    report = verify_balances(big)
    print(f"verify_balances at {args.lines:,} lines: {time.perf_counter() - start:.1f} s, ok={report.ok}")
    for difference in report.differences[:3]:
        print(f"  {difference}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--entry-lines", type=int, default=4)
    parser.add_argument("--singles", type=int, default=200)
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
