"""The bank endpoints: accounts, multipart import, statement with its difference, reconcile and undo."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.tests.factories import member
from keel.ledger.models.bank import BankStatement
from keel.ledger.tests.bank_helpers import IBAN, receipt, sample
from keel.ledger.tests.factories import set_up_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(company, owner):
    set_up_books(company)
    return ApiClient(owner, company)


def _upload(api, bank_id, file_format="mt940", data=None):
    return api.client.post(f"/api/ledger/bank-accounts/{bank_id}/statements", headers=api.headers, data={
        "format": file_format, "file": SimpleUploadedFile(f"march.{file_format}", data or sample(file_format))})


def test_create_import_reconcile_and_undo(api, company):
    created = api.post("/api/ledger/bank-accounts", {"name": "Main", "account": "1400", "iban": IBAN})
    assert created.status_code == 201, created.content
    bank_id = created.json()["id"]
    assert api.patch(f"/api/ledger/bank-accounts/{bank_id}", {"bic": "NWBKGB2L"}).json()["bic"] == "NWBKGB2L"
    imported = _upload(api, bank_id)
    assert imported.status_code == 201, imported.content
    statement = imported.json()
    assert (statement["opening_balance"], statement["closing_balance"]) == ("1000.00", "1237.50")
    assert_error(_upload(api, bank_id), 400, "statement.duplicate")
    entry_line = receipt(company).lines.get(account__code="1400")
    proposals = api.get(f"/api/ledger/bank-statements/{statement['id']}/proposals").json()
    assert [p["line_id"] for p in proposals] == [entry_line.pk]
    detail = api.get(f"/api/ledger/bank-statements/{statement['id']}").json()
    assert (detail["ledger_balance"], detail["difference"]) == ("250.00", "987.50")
    first, fees = detail["lines"]
    done = api.post(f"/api/ledger/bank-statement-lines/{first['id']}/reconcile", {"line_ids": [entry_line.pk]})
    assert done.status_code == 200 and done.json()["statement_line"]["is_reconciled"]
    assert_error(api.post(f"/api/ledger/bank-statement-lines/{first['id']}/reconcile", {"write_off_account": "6800"}),
                 409, "statement_line.already_reconciled")
    booked = api.post(f"/api/ledger/bank-statement-lines/{fees['id']}/reconcile", {"write_off_account": "6800"})
    assert booked.json()["entry"].startswith("BNK/2026/")
    unreconciled = api.get("/api/ledger/bank/unreconciled").json()
    assert unreconciled == {"statement_lines": [], "ledger_lines": []}
    undone = api.post(f"/api/ledger/bank-statement-lines/{fees['id']}/unreconcile")
    assert undone.status_code == 200 and not undone.json()["is_reconciled"]
    assert len(api.get("/api/ledger/bank/unreconciled").json()["statement_lines"]) == 1


def test_a_malformed_upload_is_refused_and_nothing_is_written(api):
    bank_id = api.post("/api/ledger/bank-accounts", {"name": "Main", "account": "1400"}).json()["id"]
    body = assert_error(_upload(api, bank_id, "camt053", b"<Document><oops"), 400, "statement.malformed")
    assert body["errors"][0]["field"] == "file"
    assert_error(api.client.post(f"/api/ledger/bank-accounts/{bank_id}/statements", headers=api.headers,
                                 data={"format": "mt940"}), 400, "statement.malformed")
    assert not BankStatement.objects.exists()


def test_bad_iban_names_the_field(api):
    body = assert_error(api.post("/api/ledger/bank-accounts", {"name": "Main", "account": "1400", "iban": "GB00X"}),
                        400, "bank_account.invalid_iban")
    assert body["errors"][0]["field"] == "iban"


def test_an_employee_may_read_nothing_and_change_nothing(api, company):
    bank_id = api.post("/api/ledger/bank-accounts", {"name": "Main", "account": "1400"}).json()["id"]
    employee = ApiClient(member(company, "employee"), company)
    assert employee.get("/api/ledger/bank-statements").status_code == 403
    assert employee.patch(f"/api/ledger/bank-accounts/{bank_id}", {"name": "X"}).status_code == 403


def test_matching_rules_are_read_and_changed_through_the_api(api, company):
    rules = api.get("/api/ledger/bank/matching-rules").json()
    assert rules == {"require_equal_amount": True, "date_window_days": 7, "match_reference": True, "match_party": True}
    changed = api.put("/api/ledger/bank/matching-rules", {"require_equal_amount": True, "date_window_days": 2,
                                                          "match_reference": False, "match_party": True})
    assert changed.status_code == 200 and changed.json()["date_window_days"] == 2
    assert_error(api.put("/api/ledger/bank/matching-rules", {"require_equal_amount": False, "date_window_days": 2,
                                                             "match_reference": False, "match_party": False}),
                 400, "bank_rules.invalid")
    assert api.put("/api/ledger/bank/matching-rules", {"require_equal_amount": True, "date_window_days": 91,
                                                       "match_reference": True, "match_party": True}).status_code in (400, 422)
    assert api.get("/api/ledger/bank/matching-rules").json()["date_window_days"] == 2
