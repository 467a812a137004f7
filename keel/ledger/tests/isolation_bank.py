"""The bank endpoints in the isolation walk (keel/api/tests/test_isolation.py)."""

from __future__ import annotations

from keel.api.tests.isolation_kinds import ByHeader, ById
from keel.ledger.tests.factories import set_up_books

ISOLATION = {
    ("GET", "/api/ledger/bank-accounts"): ByHeader(),
    ("POST", "/api/ledger/bank-accounts"): ByHeader({"name": "Spy", "account": "1410"}),
    ("GET", "/api/ledger/bank-accounts/{bank_account_id}"): ById(),
    ("PATCH", "/api/ledger/bank-accounts/{bank_account_id}"): ById({"name": "Stolen"}),
    # A multipart upload: the spy's JSON body carries no file; the bank account is looked up first.
    ("POST", "/api/ledger/bank-accounts/{bank_account_id}/statements"): ById(),
    ("GET", "/api/ledger/bank-statements"): ByHeader(),
    ("GET", "/api/ledger/bank-statements/{statement_id}"): ById(),
    ("GET", "/api/ledger/bank-statements/{statement_id}/proposals"): ById(),
    ("POST", "/api/ledger/bank-statement-lines/{statement_line_id}/reconcile"): ById({"write_off_account": "6800"}),
    ("POST", "/api/ledger/bank-statement-lines/{statement_line_id}/unreconcile"): ById(),
    ("GET", "/api/ledger/bank/unreconciled"): ByHeader(),
    ("GET", "/api/ledger/bank/unreconciled/statement-lines"): ByHeader(),
    ("GET", "/api/ledger/bank/unreconciled/ledger-lines"): ByHeader(),
    ("GET", "/api/ledger/bank/matching-rules"): ByHeader(),
    ("PUT", "/api/ledger/bank/matching-rules"): ByHeader({"require_equal_amount": True, "date_window_days": 1,
                                                          "match_reference": True, "match_party": True}),
}


def path_ids(company, owner) -> dict:
    from keel.ledger.models.bank import BankAccount
    from keel.ledger.tests.bank_helpers import bank_account, import_sample

    set_up_books(company)
    bank = BankAccount.objects.for_company(company).filter(account__code="1400").first() or bank_account(company)
    statement = bank.statements.first() or import_sample(bank, "mt940")
    return {"bank_account_id": bank.pk, "statement_id": statement.pk, "statement_line_id": statement.lines.first().pk}
