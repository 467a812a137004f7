"""Benchmark the journal import as a user runs it: the whole `keel ledger import-entries` process.

    .venv/bin/python bench/ledger_import.py                          # 20,000 and 200,000 entries, both engines
    .venv/bin/python bench/ledger_import.py --entries 20000 --engine sqlite
    .venv/bin/python bench/ledger_import.py --big                    # also 2,000,000 entries
    .venv/bin/python bench/ledger_import.py --csv journal.csv        # a given file (its accounts must exist)
    .venv/bin/python bench/ledger_import.py --tree /tmp/keel-before  # time another checkout's code

For each size it generates a journal of N entries in the shape of issue 17 (2 to 4 lines an
entry, 2.76 on average: 552,000 lines for 200,000 entries, the issue's 552,395; 40 accounts; four journals; dates
over 2026 in order; amounts with two decimals, some with thousands separators), sets up a
fresh company in a throwaway database (SQLite under var/bench/, PostgreSQL
`keel_bench_import` on KEEL_BENCH_PG, default postgres://postgres@127.0.0.1:5432), and runs
the CLI under /usr/bin/time -v. It prints the wall time, lines/s and peak RSS of the whole
process (CLI start included), and checks the entries were posted. Prints rates, not pass/fail:
these machines are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("KEEL_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "keel_bench_import"
JOURNALS = ["SAL", "PUR", "BNK", "GEN"]
COMPANY = "bench-import"


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def generate(path: Path, entries: int, accounts: list[str]) -> int:
    """Write a journal of `entries` entries; returns its line count (header excluded)."""
    lines = 0
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in range(365)]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("entry,date,journal,account,label,debit,credit,reference\r\n")
        rows = []
        for n in range(entries):
            day = days[n * 365 // entries].isoformat()
            journal = JOURNALS[n % 4]
            count = (2, 3, 2, 4, 2, 3, 2, 4, 2, 3, 2, 4, 2, 3, 2, 4, 2, 3, 4, 2, 3, 4, 2, 3, 2)[n % 25]
            cents = [(n * 7919 + k * 104729) % 250_000 + 1 for k in range(count - 1)]
            total = sum(cents)
            account = accounts[n % len(accounts)]
            debit = f"{total // 100}.{total % 100:02d}"
            if total >= 100_000 and n % 3 == 0:
                debit = f'"{total // 100:,}.{total % 100:02d}"'
            rows.append(f"E{n},{day},{journal},{account},Entry {n},{debit},,R{n}\r\n")
            for k, amount in enumerate(cents):
                other = accounts[(n + 7 * k + 3) % len(accounts)]
                rows.append(f"E{n},{day},{journal},{other},,,{amount // 100}.{amount % 100:02d},\r\n")
            lines += count
            if len(rows) > 10_000:
                out.write("".join(rows))
                rows = []
        out.write("".join(rows))
    return lines


def setup_worker() -> None:
    """In the bench database: migrate, create the company and its year, print 40 account codes."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from keel.core.services.companies import create_company
    from keel.ledger.models import Account
    from keel.ledger.services import ensure_fiscal_year
    from keel.ledger.services.chart import create_account

    call_command("migrate", verbosity=0)
    company = create_company(actor=None, code=COMPANY, legal_name="Bench Import", country="GB", base_currency="EUR")
    ensure_fiscal_year(company=company, fiscal_year=2026)
    codes = list(Account.objects.for_company(company).filter(is_active=True, currency__isnull=True)
                 .order_by("code").values_list("code", flat=True))
    number = 7000
    while len(codes) < 40:
        number += 1
        code = f"{number}"
        if code in codes:
            continue
        create_account(actor=None, company=company, code=code, name=f"Bench {code}", account_type="expense",
                       check_permission=False)
        codes.append(code)
    print(",".join(codes[:40]))


def count_worker() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    import django

    django.setup()
    from keel.core.models import Company
    from keel.ledger.models import Entry, Line
    from keel.ledger.services.balances import verify_balances

    company = Company.objects.get(code=COMPANY)
    report = verify_balances(company) if Line.objects.filter(company=company).count() <= 600_000 else None
    print(f"{Entry.objects.filter(company=company).count()} {Line.objects.filter(company=company).count()} "
          f"{'ok' if report is None or report.ok else 'BALANCES DIFFER'}")


def fresh_database(engine: str) -> tuple[dict, Path | None]:
    env = dict(os.environ)
    env["KEEL_LOG_LEVEL"] = "WARNING"
    if engine == "sqlite":
        path = ROOT / "var" / "bench" / "import.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["KEEL_DATABASE_URL"] = f"sqlite:///{path}"
        return env, path
    pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
    pg_admin(f"CREATE DATABASE {PG_NAME}")
    env["KEEL_DATABASE_URL"] = f"{PG_SERVER}/{PG_NAME}"
    return env, None


def drop_database(engine: str, path: Path | None) -> None:
    if engine == "sqlite" and path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif engine == "postgresql":
        pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")


def run_size(engine: str, entries: int | None, args) -> None:
    tree = Path(args.tree).resolve() if args.tree else ROOT
    env, path = fresh_database(engine)
    env["PYTHONPATH"] = str(tree)
    try:
        codes = subprocess.run([sys.executable, __file__, "--setup"], env=env, cwd=tree, check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1].split(",")
        if args.csv:
            csv_path = Path(args.csv).resolve()
            lines = sum(1 for _ in csv_path.open("rb")) - 1
        else:
            csv_path = ROOT / "var" / "bench" / f"journal-{entries}.csv"
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            lines = generate(csv_path, entries, codes)
        keel = Path(sys.executable).with_name("keel")
        command = ["/usr/bin/time", "-v", str(keel), "ledger", "import-entries", str(csv_path), "--company", COMPANY]
        done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
        wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
        seconds = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))) if wall else 0.0
        counted = subprocess.run([sys.executable, __file__, "--count"], env=env, cwd=tree, check=True,
                                 capture_output=True, text=True).stdout.strip()
        status = "ok" if done.returncode == 0 else f"FAILED ({done.returncode}): {done.stderr.strip()[:500]}"
        size = f"{entries:,} entries" if entries else csv_path.name
        print(f"{engine:10} {size:>18} {lines:>10,} lines  {seconds:7.1f} s  {lines / seconds if seconds else 0:>9,.0f} "
              f"lines/s  peak RSS {int(rss.group(1)) / 1024 if rss else 0:6.0f} MB  posted {counted}  {status}",
              flush=True)
        if not args.csv and not args.keep_csv:
            csv_path.unlink(missing_ok=True)
    finally:
        drop_database(engine, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, action="append", help="entries per run (repeatable; default "
                                                                      "20,000 and 200,000)")
    parser.add_argument("--big", action="store_true", help="also 2,000,000 entries")
    parser.add_argument("--csv", help="import this file instead (its accounts must be in the bench chart)")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tree", help="the checkout whose code is timed (default: this one)")
    parser.add_argument("--keep-csv", action="store_true", help="keep the generated files under var/bench/")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.setup or args.count:
        sys.path.insert(0, os.environ.get("PYTHONPATH", str(ROOT)))
        setup_worker() if args.setup else count_worker()
        return
    sizes = [None] if args.csv else (args.entries or [20_000, 200_000]) + ([2_000_000] if args.big else [])
    for engine in (["sqlite", "postgresql"] if args.engine == "both" else [args.engine]):
        for entries in sizes:
            run_size(engine, entries, args)


if __name__ == "__main__":
    main()
