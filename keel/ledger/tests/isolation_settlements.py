"""The settlement operations of the ledger API in the isolation walk (test_isolation.py)."""

from __future__ import annotations

from keel.api.tests.isolation_kinds import ByHeader, ById

ISOLATION = {
    ("GET", "/api/ledger/open-items"): ByHeader(),
    ("GET", "/api/ledger/settlements"): ByHeader(),
    ("POST", "/api/ledger/settlements"): ByHeader({"lines": [1, 2]}),
    ("GET", "/api/ledger/settlements/{settlement_id}"): ById(),
    ("POST", "/api/ledger/settlements/{settlement_id}/undo"): ById({}),
}


def path_ids(company, owner) -> dict:
    """A settled USD invoice and payment of acme's."""
    from keel.ledger.services.settlements import settle_items
    from keel.ledger.tests.test_settlements import an_invoice_and_its_payment

    _party, invoice, payment = an_invoice_and_its_payment(company, owner)
    return {"settlement_id": settle_items(actor=owner, company=company, lines=[invoice.pk, payment.pk]).pk}
