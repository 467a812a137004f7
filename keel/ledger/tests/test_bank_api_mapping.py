"""The API supplies a CSV mapping: with the upload (`mapping`, a JSON object) or saved on the
bank account (`csv_mapping` in the PATCH), both checked like the import page's mapping."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.models import Activity
from keel.ledger.bank.csv import clean_mapping
from keel.ledger.models.bank import BankAccount, BankStatement, BankStatementLine
from keel.ledger.tests.bank_helpers import CSV_MAPPING, bank_account, sample
from keel.ledger.tests.factories import set_up_books

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(company, owner):
    set_up_books(company)
    return ApiClient(owner, company)


@pytest.fixture
def bank(api, company):
    return bank_account(company)


def _upload(api, bank, **fields):
    return api.client.post(f"/api/ledger/bank-accounts/{bank.pk}/statements", headers=api.headers, data={
        "format": "csv", "file": SimpleUploadedFile("march.csv", sample("csv")), "opening_balance": "1000.00",
        **fields})


def _nothing_written(company, bank):
    bank.refresh_from_db()
    assert not BankStatement.objects.exists() and not BankStatementLine.objects.exists()
    assert bank.csv_mapping == {}
    assert not Activity.objects.filter(company=company, verb="ledger.bank_statement_imported").exists()


def test_a_csv_upload_with_its_mapping_imports_and_saves_the_mapping(api, bank):
    response = _upload(api, bank, mapping=json.dumps(CSV_MAPPING))
    assert response.status_code == 201, response.content
    assert (response.json()["closing_balance"], BankStatementLine.objects.count()) == ("1237.50", 2)
    bank.refresh_from_db()
    assert bank.csv_mapping == clean_mapping(CSV_MAPPING)
    assert api.get(f"/api/ledger/bank-accounts/{bank.pk}").json()["csv_mapping"]["date_column"] == "Booking date"


def test_without_a_mapping_a_new_bank_account_says_what_is_missing(api, bank, company):
    body = assert_error(_upload(api, bank), 400, "statement.invalid_mapping")
    assert body["message"] == "The CSV mapping needs the date column." and body["errors"][0]["field"] == "mapping"
    _nothing_written(company, bank)


@pytest.mark.parametrize(("mapping", "message"), [
    ("not json", "The mapping is a JSON object"),
    ("[1, 2]", "The mapping is a JSON object"),
    (json.dumps({**CSV_MAPPING, "date_colum": "Date"}), "Unknown CSV mapping settings: date_colum"),
    (json.dumps({**CSV_MAPPING, "amount_column": "", "debit_column": ""}), "needs an amount column"),
    (json.dumps({**CSV_MAPPING, "date_column": "Datum"}), "no column 'Datum'"),
])
def test_a_bad_mapping_is_refused_and_nothing_is_written(api, bank, company, mapping, message):
    body = assert_error(_upload(api, bank, mapping=mapping), 400)
    assert message in body["message"]
    _nothing_written(company, bank)


def test_the_mapping_saved_by_patch_is_used_by_the_next_upload(api, bank, company):
    response = api.patch(f"/api/ledger/bank-accounts/{bank.pk}", {"csv_mapping": CSV_MAPPING})
    assert response.status_code == 200, response.content
    assert response.json()["csv_mapping"] == clean_mapping(CSV_MAPPING)
    changed = Activity.objects.get(company=company, verb="ledger.bank_account_changed", data__action="changed")
    assert changed.data["csv_mapping"]["date_column"] == "Booking date"
    assert _upload(api, bank).status_code == 201
    assert api.patch(f"/api/ledger/bank-accounts/{bank.pk}", {"csv_mapping": {}}).json()["csv_mapping"] == {}


@pytest.mark.parametrize(("mapping", "status", "code", "words"), [
    ({"date_format": "%d.%m.%Y"}, 400, "bank_account.invalid_mapping", "The CSV mapping needs the date column."),
    ({**CSV_MAPPING, "delimiter": ";;"}, 400, "bank_account.invalid_mapping", "The CSV delimiter is one character"),
    ({**CSV_MAPPING, "skip_rows": 101}, 400, "bank_account.invalid_mapping", "'Skip rows' is between 0 and 100."),
    ({**CSV_MAPPING, "date_column": "x" * 101}, 400, "bank_account.invalid_mapping", "more than 100 characters"),
    ({**CSV_MAPPING, "skip_rows": [1]}, 400, "request.invalid", "csv_mapping"),
    ({**CSV_MAPPING, "colour": "red"}, 400, "bank_account.invalid_mapping", "Unknown CSV mapping settings: colour"),
])
def test_a_bad_csv_mapping_in_the_patch_is_refused_and_nothing_changes(api, bank, company, mapping, status, code,
                                                                       words):
    before = Activity.objects.filter(company=company).count()
    response = api.patch(f"/api/ledger/bank-accounts/{bank.pk}", {"csv_mapping": mapping, "name": "Renamed"})
    body = assert_error(response, status, code)
    assert words in body["message"] and body["errors"][0]["field"].startswith("csv_mapping")
    bank.refresh_from_db()
    assert (bank.name, bank.csv_mapping) == ("Main account", {})
    assert Activity.objects.filter(company=company).count() == before
    assert BankAccount.objects.get(pk=bank.pk).csv_mapping == {}
