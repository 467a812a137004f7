"""The aging and party open-item operations of the ledger API in the isolation walk (test_isolation.py)."""

from __future__ import annotations

from keel.api.tests.isolation_kinds import ByHeader, ById

ISOLATION = {
    ("GET", "/api/ledger/aging"): ByHeader(query="?kind=receivable&as_of=2026-06-30"),
    ("GET", "/api/ledger/parties/{party_id}/open-items"): ById(),
}


def path_ids(company, owner) -> dict:
    """acme's books; `party_id` is the walk's own party of acme's."""
    from keel.ledger.tests.factories import set_up_books

    set_up_books(company)
    return {}
