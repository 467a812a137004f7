"""Benchmark the ledger's financial reports at a million journal lines, on SQLite and PostgreSQL.

    .venv/bin/python bench/ledger_reports.py                      # both engines, 1,000,000 lines
    .venv/bin/python bench/ledger_reports.py --lines 100000 --engine postgresql

Posts the lines through the posting service (post_entries_bulk: 4-line entries spread over
FY2026, every fourth income line tagged with a cost centre) into a throwaway database
(SQLite file under var/bench/, or keel_bench_reports on KEEL_BENCH_PG, default
postgres://postgres@127.0.0.1:5432), then times each report: the median of 7 runs after one
warm-up, with the number of SQL queries. Whole-month ranges read only the balance table, so
their time must not grow with the number of lines (the issue's target: under 100 ms); ranges
cutting months and cost-centre filters read lines and are printed for information.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from ledger_posting import PG_SERVER, pg_admin  # noqa: E402  (shared bench scaffolding)
from ledger_posting import entries_for as sales_entries  # noqa: E402

PG_NAME = "keel_bench_reports"


def run_engine(engine: str, args) -> None:
    env = dict(os.environ)
    path = ROOT / "var" / "bench" / "reports.sqlite3"
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


def entries_for(count_lines: int, offset: int):
    return sales_entries(count_lines, 4, offset, cost_centre="SALES")


def worker(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    os.environ["KEEL_LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keel.core.services.companies import create_company
    from keel.ledger.reports import (
        balance_sheet,
        cash_flow,
        general_ledger,
        get_account,
        profit_and_loss,
        report_range,
    )
    from keel.ledger.services import ensure_fiscal_year, post_entries_bulk
    from keel.ledger.services.chart import create_cost_centre

    call_command("migrate", verbosity=0)
    print(f"== {connection.vendor} ({connection.settings_dict['NAME']})")
    company = create_company(actor=None, code="bench", legal_name="Bench", country="GB", base_currency="EUR")
    for year in (2025, 2026):
        ensure_fiscal_year(company=company, fiscal_year=year)
    create_cost_centre(actor=None, company=company, code="SALES", name="Sales", check_permission=False)
    posted, start = 0, time.perf_counter()
    while posted < args.lines:
        batch = entries_for(min(100_000, args.lines - posted), offset=posted // 4)
        posted += post_entries_bulk(actor=None, company=company, entries=batch, check_permission=False).lines
    print(f"posted {posted:,} lines in {time.perf_counter() - start:.0f} s")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def timed(label: str, call) -> None:
        call()  # warm
        with CaptureQueriesContext(connection) as queries:
            call()
        runs = []
        for _ in range(7):
            begin = time.perf_counter()
            call()
            runs.append((time.perf_counter() - begin) * 1000)
        print(f"  {label}: {statistics.median(runs):.1f} ms median (min {min(runs):.1f}), {len(queries)} queries")

    def period(date_from, date_to, **extra):
        return report_range(company, date_from=date_from, date_to=date_to, **extra)

    march = period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    compared = period(dt.date(2026, 1, 1), dt.date(2026, 6, 30), compare_from=dt.date(2025, 1, 1),
                      compare_to=dt.date(2025, 6, 30))
    year = period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    print("whole months (balance table only):")
    timed("profit and loss, March 2026", lambda: profit_and_loss(company, march))
    timed("profit and loss, H1 2026 vs H1 2025", lambda: profit_and_loss(company, compared))
    timed("profit and loss, FY2026", lambda: profit_and_loss(company, year))
    as_of = report_range(company, date_from=None, date_to=dt.date(2026, 6, 30), compare_to=dt.date(2025, 12, 31),
                         as_of=True)
    timed("balance sheet as of 2026-06-30 vs 2025-12-31", lambda: balance_sheet(company, as_of))
    timed("cash flow, March 2026", lambda: cash_flow(company, march))
    timed("cash flow, H1 2026 vs H1 2025", lambda: cash_flow(company, compared))
    bank = get_account(company, "1400")
    timed("general ledger 1400, March 2026, first page of 100", lambda: general_ledger(company, bank, march))
    first = general_ledger(company, bank, year, size=1000)
    for _ in range(20):
        first = general_ledger(company, bank, year, cursor=first.next_cursor, size=1000)
    cursor = first.next_cursor
    timed("general ledger 1400, FY2026, page 22 (after 21,000 lines)",
          lambda: general_ledger(company, bank, year, cursor=cursor))
    print("ranges cutting months, cost-centre filter (read lines, for information):")
    timed("profit and loss, 2026-03-10..2026-04-20", lambda: profit_and_loss(company, period(
        dt.date(2026, 3, 10), dt.date(2026, 4, 20))))
    timed("profit and loss, March 2026, cost centre SALES", lambda: profit_and_loss(company, period(
        dt.date(2026, 3, 1), dt.date(2026, 3, 31), cost_centre="SALES")))


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
