"""Benchmark: record N activities in bulk, then verify the company's hash chain.

    .venv/bin/python bench/activities.py [--count 100000] [--batch 1000]
    KEEL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/keel .venv/bin/python bench/activities.py

On SQLite it uses a throwaway file var/bench/activities.sqlite3 (recreated each run). With a
PostgreSQL KEEL_DATABASE_URL it creates a throwaway database on that server (keel_bench by
default, --database to change), migrates it and drops it at the end (--keep to keep it).
Prints activities per second for recording and for verifying. Not a test: machines are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000, help="activities to record (default 100000)")
    parser.add_argument("--batch", type=int, default=1000, help="activities per record_many call (default 1000)")
    parser.add_argument("--database", default="keel_bench", help="PostgreSQL: the throwaway database's name")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database afterwards")
    parser.add_argument("--verify-runs", type=int, default=3, help="how many times to time the verification (best is shown)")
    return parser.parse_args()


def _postgres_admin(url: str, database: str):
    """Connect to the server's maintenance database to create or drop the bench database."""
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin_url, autocommit=True), urlunsplit(parts._replace(path=f"/{database}"))


def _prepare_database(options: argparse.Namespace) -> tuple[str, str, callable]:
    """Point KEEL_DATABASE_URL at a throwaway database; return (engine, url, cleanup)."""
    url = os.environ.get("KEEL_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        admin, bench_url = _postgres_admin(url, options.database)
        with admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{options.database}"')
            admin.execute(f'CREATE DATABASE "{options.database}"')
        os.environ["KEEL_DATABASE_URL"] = bench_url

        def cleanup() -> None:
            from django.db import connections

            connections.close_all()
            if not options.keep:
                admin_again, _ = _postgres_admin(url, options.database)
                with admin_again:
                    admin_again.execute(f'DROP DATABASE IF EXISTS "{options.database}"')

        return "postgresql", bench_url, cleanup
    if url and not url.startswith("sqlite"):
        sys.exit(f"Unsupported KEEL_DATABASE_URL for the benchmark: {url}")
    folder = ROOT / "var" / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "activities.sqlite3"
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    os.environ["KEEL_DATABASE_URL"] = f"sqlite:///{path}"
    return "sqlite", str(path), lambda: None


def main() -> None:
    options = _arguments()
    engine, where, cleanup = _prepare_database(options)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    import django

    django.setup()
    try:
        _run(options, engine, where)
    finally:
        cleanup()


def _run(options: argparse.Namespace, engine: str, where: str) -> None:
    from django.core.management import call_command

    from keel.core.activity import Entry, record_many, verify_chain
    from keel.core.tests.factories import CompanyFactory

    print(f"engine: {engine} ({where})")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s")
    company = CompanyFactory(code="bench", legal_name="Bench Ltd")

    count, batch = options.count, options.batch
    recorded = 0
    started = time.perf_counter()
    while recorded < count:
        size = min(batch, count - recorded)
        entries = [
            Entry(
                "bench.document_processed",
                subject_type="bench.document",
                subject_id=str((recorded + i) % 5000),
                subject_repr=f"Document {(recorded + i) % 5000}",
                data={"n": recorded + i, "amount": Decimal(recorded + i) / 100, "status": "processed", "lines": [1, 2, 3]},
            )
            for i in range(size)
        ]
        record_many(company=company, actor=None, entries=entries)
        recorded += size
    record_seconds = time.perf_counter() - started
    print(f"record:  {recorded} activities in {record_seconds:.2f} s = {recorded / record_seconds:,.0f} activities/s "
          f"(batches of {batch})")

    best = None
    for _run_number in range(max(1, options.verify_runs)):
        started = time.perf_counter()
        report = verify_chain(company)
        seconds = time.perf_counter() - started
        if not report.ok or report.checked != recorded:
            sys.exit(f"verification failed: {report}")
        best = seconds if best is None else min(best, seconds)
    print(f"verify:  {report.checked} activities in {best:.2f} s = {report.checked / best:,.0f} activities/s "
          f"(best of {max(1, options.verify_runs)})")


if __name__ == "__main__":
    main()
