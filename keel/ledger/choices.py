"""Statuses, types and roles of the ledger's records."""

from django.db import models


class AccountType(models.TextChoices):
    ASSET = "asset", "Asset"
    LIABILITY = "liability", "Liability"
    EQUITY = "equity", "Equity"
    INCOME = "income", "Income"
    EXPENSE = "expense", "Expense"


# Accounts whose balance is carried forward from year to year (balance sheet); the others
# (income, expense) start each fiscal year at zero once the year-end closing has run.
BALANCE_SHEET_TYPES = frozenset({AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY})


class AccountRole(models.TextChoices):
    """What the system uses an account for; other departments find accounts by role."""

    NONE = "", "None"
    RECEIVABLE = "receivable", "Receivable"
    PAYABLE = "payable", "Payable"
    BANK = "bank", "Bank"
    CASH = "cash", "Cash"
    TAX_COLLECTED = "tax_collected", "Tax collected"
    TAX_DEDUCTIBLE = "tax_deductible", "Tax deductible"
    RETAINED_EARNINGS = "retained_earnings", "Retained earnings"
    ROUNDING = "rounding", "Rounding"
    EXCHANGE_GAIN = "exchange_gain", "Exchange gain"
    EXCHANGE_LOSS = "exchange_loss", "Exchange loss"
    SUSPENSE = "suspense", "Suspense"


# Roles the company has at most one account for (the system posts to "the" account).
UNIQUE_ROLES = (
    AccountRole.RETAINED_EARNINGS, AccountRole.ROUNDING, AccountRole.EXCHANGE_GAIN,
    AccountRole.EXCHANGE_LOSS, AccountRole.SUSPENSE,
)

# Roles whose lines are open items of a party: a line on them names its party.
PARTY_ROLES = (AccountRole.RECEIVABLE, AccountRole.PAYABLE)


class PeriodStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    LOCKED = "locked", "Locked"


class JournalKind(models.TextChoices):
    SALES = "sales", "Sales"
    PURCHASES = "purchases", "Purchases"
    BANK = "bank", "Bank"
    CASH = "cash", "Cash"
    PAYROLL = "payroll", "Payroll"
    GENERAL = "general", "General"
    OPENING = "opening", "Opening"


class EntryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    POSTED = "posted", "Posted"
    REVERSED = "reversed", "Reversed"


class TaxRole(models.TextChoices):
    """Whether a line is the base a tax was computed on, or the tax amount itself."""

    NONE = "", "None"
    BASE = "base", "Tax base"
    TAX = "tax", "Tax amount"


class TaxKind(models.TextChoices):
    """Whether a tax code applies to sales (tax collected) or purchases (tax deductible)."""

    SALES = "sales", "Sales"
    PURCHASE = "purchase", "Purchase"


# The source of the year-end closing entries (the P&L and cash flow leave them out).
CLOSING_SOURCE_TYPE = "ledger.fiscal_year"

# The chart role of the account a plain tax code's tax posts to when it names none.
TAX_ACCOUNT_ROLE = {TaxKind.SALES: AccountRole.TAX_COLLECTED, TaxKind.PURCHASE: AccountRole.TAX_DEDUCTIBLE}


class FilingFrequency(models.TextChoices):
    """How often the company files its tax return: the return page's default period."""

    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class TaxRounding(models.TextChoices):
    """Where tax is rounded: on each line, or once per tax code on the document's total."""

    LINE = "line", "Per line"
    DOCUMENT = "document", "Per document"


class RevaluationStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    UNDONE = "undone", "Undone"


class SettlementStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    UNDONE = "undone", "Undone"


class CashFlowCategory(models.TextChoices):
    """Where a balance-sheet account's movements land in the cash-flow statement (indirect method).

    Set on account groups (blank: as the parent group; a top-level group left blank is
    operating) and, for the odd account that differs from its group, on the account itself
    (blank: as its group). Cash itself is found by account role (bank, cash), never by this.
    """

    OPERATING = "operating", "Operating (working capital)"
    NON_CASH = "non_cash", "Non-cash adjustment"
    INVESTING = "investing", "Investing"
    FINANCING = "financing", "Financing"
