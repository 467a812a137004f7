"""The ledger's bank models: bank accounts, imported statements and their reconciliation.

A statement line is reconciled by one `BankReconciliation`, which links it to the posted
ledger lines on the bank account's ledger account that together equal its amount
(`BankMatch`); a write-off or an unmatched line booked from the reconciliation page posts an
entry on the bank journal, whose bank line is matched like any other and which is reversed
when the reconciliation is undone. Posted lines are immutable, so the link lives here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from keel.core.models import CompanyOwned
from keel.ledger.models.books import AMOUNT, Account, Entry, Journal, Line

__all__ = ["BankAccount", "BankMatch", "BankMatchingRules", "BankReconciliation", "BankStatement", "BankStatementLine"]


class BankAccount(CompanyOwned):
    """A bank account of the company, kept on one ledger account (role bank) and journal."""

    view_permission = "ledger.view"

    name = models.CharField(max_length=100)
    iban = models.CharField(max_length=34, blank=True)
    bic = models.CharField(max_length=11, blank=True)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="+")
    # The CSV column mapping saved with the last CSV import (see keel.ledger.bank.csv).
    csv_mapping = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "account"], name="ledger_bank_account_ledger_unique"),
            models.UniqueConstraint(fields=["company", "name"], name="ledger_bank_account_name_unique"),
            models.UniqueConstraint(fields=["company", "iban"], condition=~Q(iban=""),
                                    name="ledger_bank_account_iban_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class BankMatchingRules(CompanyOwned):
    """The company's rules for proposing matches between statement lines and ledger lines."""

    view_permission = "ledger.view"

    require_equal_amount = models.BooleanField(default=True)
    date_window_days = models.PositiveIntegerField(default=7)
    match_reference = models.BooleanField(default=True)
    match_party = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company"], name="ledger_bank_rules_one_per_company")]
        verbose_name_plural = "bank matching rules"

    def __str__(self) -> str:
        return f"matching rules of {self.company_id}"


class BankStatement(CompanyOwned):
    """One statement of a bank account as the bank sent it (CAMT.053, MT940, OFX or CSV)."""

    view_permission = "ledger.view"

    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="statements")
    reference = models.CharField(max_length=100, help_text="The bank's statement id.")
    file_format = models.CharField(max_length=10)
    file_name = models.CharField(max_length=200, blank=True)
    file_hash = models.CharField(max_length=64)
    date_from = models.DateField()
    date_to = models.DateField()
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    opening_balance = models.DecimalField(**AMOUNT)
    closing_balance = models.DecimalField(**AMOUNT)
    # Set when the importer accepted an opening balance that does not continue the previous closing.
    balance_gap = models.DecimalField(default=0, **AMOUNT)
    # Set when a user with bank.import_unbalanced imported a statement whose opening balance
    # plus its lines is not its closing balance: the difference is closing - (opening + lines),
    # shown on the statement until someone sorts it out with the bank.
    is_unbalanced = models.BooleanField(default=False)
    unbalanced_difference = models.DecimalField(default=0, **AMOUNT)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-date_to", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "bank_account", "reference"], name="ledger_statement_ref_unique"),
            models.UniqueConstraint(fields=["company", "bank_account", "file_hash"], name="ledger_statement_hash_unique"),
            models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")), name="ledger_statement_dates"),
            models.CheckConstraint(condition=Q(is_unbalanced=True) & ~Q(unbalanced_difference=0)
                                   | Q(is_unbalanced=False, unbalanced_difference=0),
                                   name="ledger_statement_unbalanced_flag"),
        ]

    def __str__(self) -> str:
        return f"{self.bank_account} {self.reference}"


class BankStatementLine(CompanyOwned):
    """One movement of a statement; `amount` is signed (positive: money in)."""

    view_permission = "ledger.view"

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    date = models.DateField()
    amount = models.DecimalField(**AMOUNT)
    currency = models.ForeignKey("core.Currency", on_delete=models.PROTECT, related_name="+")
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    transaction_id = models.CharField(max_length=100, blank=True)
    is_reconciled = models.BooleanField(default=False)

    class Meta:
        ordering = ["statement_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "statement", "position"], name="ledger_statement_line_unique"),
        ]
        indexes = [
            models.Index(fields=["company", "is_reconciled", "date"], name="ledger_stmt_line_open"),
            # The import's check for lines imported already reads the lines on the new ones' days.
            models.Index(fields=["company", "date"], name="ledger_stmt_line_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.amount} {self.counterparty_name}".strip()


class BankReconciliation(CompanyOwned):
    """The reconciliation of one statement line: its matches, and the entry it posted if any."""

    view_permission = "ledger.view"

    statement_line = models.ForeignKey(BankStatementLine, on_delete=models.PROTECT, related_name="reconciliations")
    # The bank-journal entry posted for a write-off or an unmatched line (reversed on undo).
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "statement_line"], name="ledger_reconciliation_one_per_line"),
        ]

    def __str__(self) -> str:
        return f"reconciliation of line {self.statement_line_id}"


class BankMatch(CompanyOwned):
    """A ledger line (on the bank's ledger account) taken into a reconciliation."""

    view_permission = "ledger.view"

    reconciliation = models.ForeignKey(BankReconciliation, on_delete=models.CASCADE, related_name="matches")
    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "line"], name="ledger_bank_match_line_unique")]

    def __str__(self) -> str:
        return f"line {self.line_id} in {self.reconciliation_id}"
