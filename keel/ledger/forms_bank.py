"""Forms of the bank pages: bank accounts, statement import (with the CSV mapping) and reconciliation.

They only parse what was typed; the rules (IBAN, bank role, balances, amounts that must add
up) stay in keel.ledger.services.bank and keel.ledger.services.reconciliation, whose errors
`keel.web.forms.submit` puts on the named field.
"""

from __future__ import annotations

from django import forms

from keel.core.models import Currency
from keel.ledger.bank import FORMATS
from keel.ledger.bank.csv import MAPPING_FIELDS
from keel.ledger.choices import AccountRole, JournalKind
from keel.ledger.models import Account, Journal
from keel.ledger.models.bank import BankAccount
from keel.web.forms import AmountField, DateInput
from keel.web.search_select import PartySearchField, party_lookup

# The CSV mapping's fields as form fields: (key, label, help).
MAPPING_LABELS = {
    "delimiter": ("Delimiter", "One character: , or ; or \\t for a tab."),
    "skip_rows": ("Rows before the header", "Lines above the header row (a title, the account number...)."),
    "date_column": ("Date column", "The header of the booking date column."),
    "date_format": ("Date format", "e.g. %d.%m.%Y for 31.03.2026, %Y-%m-%d for 2026-03-31."),
    "amount_column": ("Amount column", "A signed amount (negative: money out). Or give debit and credit columns."),
    "debit_column": ("Debit column", "Money out, when the file has separate columns."),
    "credit_column": ("Credit column", "Money in, when the file has separate columns."),
    "decimal_separator": ("Decimal separator", ". or ,"),
    "reference_column": ("Reference column", ""),
    "counterparty_column": ("Counterparty column", ""),
    "counterparty_iban_column": ("Counterparty IBAN column", ""),
    "description_column": ("Description column", ""),
    "transaction_id_column": ("Transaction id column", ""),
}


class BankAccountForm(forms.Form):
    name = forms.CharField(max_length=100)
    account = forms.ChoiceField(label="Ledger account", help_text="The ledger account (role bank) the account is kept on.")
    iban = forms.CharField(label="IBAN", max_length=50, required=False)
    bic = forms.CharField(label="BIC", max_length=20, required=False)
    currency = forms.ChoiceField()
    journal = forms.ChoiceField(help_text="The bank journal write-offs and bank fees are posted on.")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = Account.objects.for_company(company).filter(role=AccountRole.BANK, is_active=True).order_by("code")
        self.fields["account"].choices = [(a.code, f"{a.code} {a.name}") for a in accounts]
        currencies = Currency.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
        self.fields["currency"].choices = [(code, code) for code in currencies]
        self.fields["currency"].initial = company.base_currency_id
        journals = Journal.objects.for_company(company).filter(kind=JournalKind.BANK).order_by("code")
        self.fields["journal"].choices = [(j.code, f"{j.code} {j.name}") for j in journals]


class StatementImportForm(forms.Form):
    bank_account = forms.TypedChoiceField(coerce=int, label="Bank account")
    file_format = forms.ChoiceField(label="Format", choices=list(FORMATS.items()))
    file = forms.FileField(help_text="The statement as the bank sent it (at most 5 MB). A file of several accounts "
                                     "sends each statement to the bank account with its IBAN.")
    opening_balance = AmountField(
        required=False, label="Opening balance (CSV only)",
        help_text="A CSV file has no balances: blank continues the previous statement's closing balance.")
    accept_balance_gap = forms.BooleanField(
        required=False, label="Accept an opening balance that does not continue the previous statement")
    accept_unbalanced = forms.BooleanField(
        required=False, label="Import a statement whose balances do not add up, flagged with the difference",
        help_text="Only when the import refused it and the bank cannot send a complete one (needs the permission "
                  "bank.import_unbalanced); the statement page shows the difference.")
    accept_repeated_lines = forms.BooleanField(
        required=False, label="Import lines that were imported already (they are new transactions)",
        help_text="Only when the import refused lines as imported already and you checked they are not.")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        accounts = BankAccount.objects.for_company(company).filter(is_active=True)
        self.fields["bank_account"].choices = [(a.pk, f"{a.name} ({a.iban or a.currency_id})") for a in accounts]
        for key in MAPPING_FIELDS:
            label, help_text = MAPPING_LABELS[key]
            self.fields[f"csv_{key}"] = forms.CharField(required=False, max_length=100, label=label,
                                                        help_text=help_text, strip=key != "delimiter")

    def mapping_fields(self):
        return [self[f"csv_{key}"] for key in MAPPING_FIELDS]

    def other_fields(self):
        return [field for field in self.visible_fields() if not field.name.startswith("csv_")]

    def mapping(self) -> dict:
        """The CSV mapping typed (only the fields filled in); empty: use the saved one."""
        data = self.cleaned_data
        return {key: data[f"csv_{key}"] for key in MAPPING_FIELDS if data.get(f"csv_{key}") not in (None, "")}


def mapping_initial(bank_account: BankAccount | None) -> dict:
    """The import form's CSV fields pre-filled from the bank account's saved mapping."""
    saved = (bank_account.csv_mapping or {}) if bank_account is not None else {}
    values = {**MAPPING_FIELDS, **saved}
    return {f"csv_{key}": ("\\t" if value == "\t" else value) for key, value in values.items()}


class ReconcileForm(forms.Form):
    """One statement line: ledger lines (a proposal, or several for a split) and/or an account for the rest."""

    line_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Ledger lines")
    write_off_account = forms.CharField(required=False, max_length=20, label="Book the difference to account")
    write_off_label = forms.CharField(required=False, max_length=200, label="Label")
    write_off_party = PartySearchField(required=False, label="Party (for a receivable or payable account)")

    def __init__(self, *args, company=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id may be posted; the service checks it belongs to the bank's ledger account.
        self.fields["line_ids"].valid_value = lambda value: True
        if company is not None:
            self.fields["write_off_party"].lookup = party_lookup(company)

    def clean_line_ids(self):
        ids = self.cleaned_data["line_ids"]
        if any(not 0 < value < 2**63 for value in ids):
            raise forms.ValidationError("Choose ledger lines from the list.")
        return ids


class MatchingRulesForm(forms.Form):
    """The company's rules for proposing reconciliation matches (checked by the service)."""

    require_equal_amount = forms.BooleanField(required=False, label="Propose only ledger lines of the same amount")
    date_window_days = forms.IntegerField(min_value=0, max_value=90, label="Date window (days either side)")
    match_reference = forms.BooleanField(required=False, label="Match on the reference in the entry's reference or label")
    match_party = forms.BooleanField(required=False, label="Match on the counterparty (name or a known IBAN)")


class UnreconciledFilterForm(forms.Form):
    """The unreconciled report's filters: a date range and a search; a bad value is ignored."""

    date_from = forms.DateField(required=False, label="From", widget=DateInput())
    date_to = forms.DateField(required=False, label="To", widget=DateInput())
    q = forms.CharField(required=False, max_length=100, label="Search",
                        help_text="Counterparty, reference, label or party; or an amount.")

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise forms.ValidationError("The range ends before it starts.")
        return data
