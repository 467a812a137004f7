"""Isolation entries of the ledger's report endpoints (see keel/api/tests/test_isolation.py)."""

from keel.api.tests.isolation_kinds import ByHeader
from keel.ledger.tests.factories import set_up_books

RANGE = "?date_from=2026-01-01&date_to=2026-03-31&compare_from=2025-01-01&compare_to=2025-03-31"

ISOLATION = {
    ("GET", "/api/ledger/reports/general-ledger"): ByHeader(query=RANGE + "&account=1400"),
    ("GET", "/api/ledger/reports/profit-and-loss"): ByHeader(query=RANGE),
    ("GET", "/api/ledger/reports/balance-sheet"): ByHeader(query=RANGE),
    ("GET", "/api/ledger/reports/cash-flow"): ByHeader(query=RANGE),
}


def path_ids(company, owner) -> dict:
    set_up_books(company)
    return {}
