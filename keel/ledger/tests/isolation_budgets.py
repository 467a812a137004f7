"""Isolation entries of the ledger's budget endpoints (see keel/api/tests/test_isolation.py)."""

from keel.api.tests.isolation_kinds import ByHeader, ById
from keel.ledger.services.budgets import BudgetRowInput, create_budget, set_budget_rows
from keel.ledger.tests.factories import set_up_books

ISOLATION = {
    ("GET", "/api/ledger/budgets"): ByHeader(),
    ("POST", "/api/ledger/budgets"): ByHeader({"name": "Spy", "fiscal_year": 2026}),
    ("GET", "/api/ledger/budgets/{budget_id}"): ById(),
    ("PATCH", "/api/ledger/budgets/{budget_id}"): ById({"name": "Stolen"}),
    ("DELETE", "/api/ledger/budgets/{budget_id}"): ById(),
    ("POST", "/api/ledger/budgets/{budget_id}/lines"): ById({"rows": [{"account": "6100", "annual": "1200"}]}),
    ("POST", "/api/ledger/budgets/{budget_id}/import"): ById({"csv": "account,annual\n6100,1200\n"}),
    ("POST", "/api/ledger/budgets/{budget_id}/approve"): ById(),
    ("POST", "/api/ledger/budgets/{budget_id}/reopen"): ById(),
    ("GET", "/api/ledger/budgets/{budget_id}/versus-actual"): ById(),
}


def path_ids(company, owner) -> dict:
    set_up_books(company)
    budget = create_budget(actor=owner, company=company, name="Acme plan", fiscal_year=2026)
    set_budget_rows(actor=owner, budget=budget, rows=[BudgetRowInput(account="6100", annual="1200")])
    return {"budget_id": budget.pk}
