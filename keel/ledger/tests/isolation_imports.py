"""The journal import operations of the ledger API in the isolation walk (test_isolation.py)."""

from __future__ import annotations

from keel.api.tests.isolation_kinds import ByHeader, ById

ISOLATION = {
    ("POST", "/api/ledger/entry-imports"): ByHeader(),
    ("GET", "/api/ledger/entry-imports"): ByHeader(),
    ("GET", "/api/ledger/entry-imports/{import_id}"): ById(),
}


def path_ids(company, owner) -> dict:
    """An import of acme's (a two-line journal file)."""
    from keel.ledger.services.importing import import_entries
    from keel.ledger.tests.factories import set_up_books

    set_up_books(company)
    text = ("entry,date,journal,account,label,debit,credit\n"
            "I1,2026-03-16,GEN,1200,,10.00,\nI1,2026-03-16,GEN,4000,,,10.00\n")
    result = import_entries(actor=owner, company=company, text=text, check_permission=False)
    assert result.posted, result.errors
    return {"import_id": result.import_id}
