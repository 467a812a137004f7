"""The taxes and currencies operations of the ledger API in the isolation walk (test_isolation.py)."""

from __future__ import annotations

import datetime as dt

from keel.api.tests.isolation_kinds import ByHeader, ById
from keel.ledger.models import TaxCode
from keel.ledger.tests.factories import set_up_books

ISOLATION = {
    ("GET", "/api/ledger/tax-codes"): ByHeader(),
    ("POST", "/api/ledger/tax-codes"): ByHeader({"code": "SPY", "name": "Spy", "rate": "1"}),
    ("GET", "/api/ledger/tax-codes/{tax_code_id}"): ById(),
    ("PATCH", "/api/ledger/tax-codes/{tax_code_id}"): ById({"rate": "99"}),
    ("POST", "/api/ledger/taxes/compute"): ByHeader({"kind": "sales", "lines": [{"amount": "100", "tax_codes": ["S20"]}]}),
    ("GET", "/api/ledger/tax-return"): ByHeader(query="?date_from=2026-01-01&date_to=2026-12-31"),
    ("GET", "/api/ledger/revaluations"): ByHeader(),
    ("GET", "/api/ledger/revaluations/preview"): ByHeader(query="?period_end=2026-01-31"),
    ("POST", "/api/ledger/revaluations"): ByHeader({"period_end": "2026-01-31"}),
    ("GET", "/api/ledger/revaluations/{revaluation_id}"): ById(),
    ("POST", "/api/ledger/revaluations/{revaluation_id}/undo"): ById(),
}


def path_ids(company, owner) -> dict:
    """acme's standard sales tax code and a posted revaluation of a USD receivable."""
    from keel.ledger.tests.test_revaluation import a_revaluation

    set_up_books(company)
    tax_code = TaxCode.objects.get(company=company, code="S20")
    revaluation = a_revaluation(company, owner, day=dt.date(2026, 1, 10), period_end=dt.date(2026, 1, 31))
    return {"tax_code_id": tax_code.pk, "revaluation_id": revaluation.pk}
