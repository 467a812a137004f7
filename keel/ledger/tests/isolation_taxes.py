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
    ("POST", "/api/ledger/tax-returns"): ByHeader({"date_from": "2026-01-01", "date_to": "2026-01-31"}),
    ("GET", "/api/ledger/tax-returns"): ByHeader(),
    ("GET", "/api/ledger/tax-returns/{tax_return_id}"): ById(),
    ("GET", "/api/ledger/tax-settings"): ByHeader(),
    ("PUT", "/api/ledger/tax-settings"): ByHeader({"filing_frequency": "monthly"}),
    ("GET", "/api/ledger/tax-boxes"): ByHeader(),
    ("PUT", "/api/ledger/tax-boxes/{box}"): ByHeader({"name": "Spy box"}),
    ("GET", "/api/ledger/revaluations"): ByHeader(),
    ("GET", "/api/ledger/revaluations/preview"): ByHeader(query="?period_end=2026-01-31"),
    ("POST", "/api/ledger/revaluations"): ByHeader({"period_end": "2026-01-31"}),
    ("GET", "/api/ledger/revaluations/{revaluation_id}"): ById(),
    ("POST", "/api/ledger/revaluations/{revaluation_id}/undo"): ById(),
}


def path_ids(company, owner) -> dict:
    """acme's standard sales tax code, a posted revaluation of a USD receivable, a filed return."""
    from keel.ledger.tests.test_revaluation import a_revaluation

    set_up_books(company)
    tax_code = TaxCode.objects.get(company=company, code="S20")
    revaluation = a_revaluation(company, owner, day=dt.date(2026, 1, 10), period_end=dt.date(2026, 1, 31))
    from keel.ledger.services.taxes import file_tax_return

    tax_return, _created = file_tax_return(actor=None, company=company, date_from=dt.date(2026, 1, 1),
                                           date_to=dt.date(2026, 1, 31), check_permission=False)
    return {"tax_code_id": tax_code.pk, "revaluation_id": revaluation.pk, "tax_return_id": tax_return.pk, "box": "9"}
