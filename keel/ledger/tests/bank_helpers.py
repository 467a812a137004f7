"""Helpers of the bank tests: a bank account, sample statements, posted bank entries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from keel.core.services.parties import create_party
from keel.ledger.services import LineInput, post_entry
from keel.ledger.services.bank import create_bank_account, import_statement
from keel.ledger.tests.factories import party_for

DATA = Path(__file__).parent / "data"
IBAN = "GB29NWBK60161331926819"
CSV_MAPPING = {
    "delimiter": ";", "skip_rows": 1, "date_column": "Booking date", "date_format": "%d.%m.%Y",
    "debit_column": "Debit", "credit_column": "Credit", "decimal_separator": ",", "counterparty_column": "Counterparty",
    "counterparty_iban_column": "IBAN", "description_column": "Text", "transaction_id_column": "Ref",
}
SAMPLES = {"camt053": "bank_march.xml", "mt940": "bank_march.sta", "ofx": "bank_march.ofx", "csv": "bank_march.csv"}


def sample(file_format: str) -> bytes:
    return (DATA / SAMPLES[file_format]).read_bytes()


def bank_account(company, *, name="Main account", account="1400", iban=IBAN):
    return create_bank_account(actor=None, company=company, name=name, account=account, iban=iban, bic="NWBKGB2L",
                               check_permission=False)


def import_sample(bank, file_format="camt053", **kwargs):
    kwargs.setdefault("mapping", CSV_MAPPING if file_format == "csv" else None)
    if file_format == "csv":
        kwargs.setdefault("opening_balance", Decimal("1000.00"))
    return import_statement(actor=None, bank_account=bank, file_format=file_format, data=sample(file_format),
                            file_name=SAMPLES[file_format], check_permission=False, **kwargs)


def receipt(company, amount="250.00", day=dt.date(2026, 3, 15), reference="INV-2026-001", party=None, account="1400"):
    """A customer's payment posted on the bank journal: bank debit, receivables credit."""
    return post_entry(actor=None, company=company, journal="BNK", date=day, reference=reference,
                      lines=[LineInput(account=account, debit=Decimal(amount), party=party, label="Receipt"),
                             LineInput(account="1200", credit=Decimal(amount),
                                       party=party or party_for(company, "1200"))],
                      check_permission=False)


def hooli(company, actor):
    return create_party(actor=actor, company=company, name="Hooli Ltd", roles=["customer"])


def bank_line(entry, account_code="1400"):
    return entry.lines.get(account__code=account_code)
