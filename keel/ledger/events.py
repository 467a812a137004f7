"""The events the ledger emits (recorded as activities by its services)."""

from keel.core.events import declare

ENTRY_POSTED = declare("ledger.entry_posted", "A journal entry was posted to the general ledger")
ENTRY_REVERSED = declare("ledger.entry_reversed", "A posted entry was reversed by a mirror entry")
ENTRIES_BULK_POSTED = declare(
    "ledger.entries_bulk_posted", "A batch of journal entries was posted in one call (import, run)"
)
ENTRIES_IMPORTED = declare(
    "ledger.entries_imported", "A journal file was imported: its entries were posted, each linked to the import"
)
ENTRY_DRAFTED = declare("ledger.entry_drafted", "A draft journal entry was created or changed")
ENTRY_DRAFT_DELETED = declare("ledger.entry_draft_deleted", "A draft journal entry was deleted")
CHART_APPLIED = declare("ledger.chart_applied", "A chart of accounts template or file was loaded")
ACCOUNT_CHANGED = declare("ledger.account_changed", "An account was created, changed or deactivated")
ACCOUNT_GROUP_CHANGED = declare(
    "ledger.account_group_changed", "An account group was renamed or its cash-flow section was changed"
)
COST_CENTRE_CHANGED = declare("ledger.cost_centre_changed", "A cost centre was created, deactivated or reactivated")
FISCAL_YEAR_OPENED = declare("ledger.fiscal_year_opened", "A fiscal year and its monthly periods were created")
PERIOD_CLOSED = declare("ledger.period_closed", "A period was closed: it refuses postings")
PERIOD_REOPENED = declare("ledger.period_reopened", "A closed period was reopened, with a reason")
PERIOD_LOCKED = declare("ledger.period_locked", "A period was locked for good")
FISCAL_YEAR_CLOSED = declare(
    "ledger.fiscal_year_closed", "A fiscal year was closed: its result moved to retained earnings, its periods closed"
)
FISCAL_YEAR_REOPENED = declare(
    "ledger.fiscal_year_reopened", "A closed fiscal year was reopened, with a reason: its closing entry was reversed"
)
BANK_ACCOUNT_CHANGED = declare("ledger.bank_account_changed", "A bank account was created, changed or deactivated")
BANK_RULES_CHANGED = declare("ledger.bank_rules_changed", "The bank matching rules of the company were changed")
BANK_STATEMENT_IMPORTED = declare("ledger.bank_statement_imported", "A bank statement was imported")
BANK_LINE_RECONCILED = declare("ledger.bank_line_reconciled", "A bank statement line was reconciled with the ledger")
BANK_LINE_UNRECONCILED = declare("ledger.bank_line_unreconciled", "A bank statement line's reconciliation was undone")
TAX_CODE_CHANGED = declare("ledger.tax_code_changed", "A tax code was created, changed or deactivated")
TAX_SETTINGS_CHANGED = declare(
    "ledger.tax_settings_changed", "The tax return's filing frequency or a box's name or total was changed"
)
TAX_RETURN_FILED = declare("ledger.tax_return_filed", "A tax return was filed: its figures are kept as filed")
REVALUATION_POSTED = declare(
    "ledger.revaluation_posted", "Unrealized exchange differences were posted at a period end, with their reversal"
)
REVALUATION_UNDONE = declare("ledger.revaluation_undone", "A period-end revaluation was undone")
EXCHANGE_DIFFERENCE_POSTED = declare(
    "ledger.exchange_difference_posted", "A realized exchange gain or loss was posted on settling a foreign item"
)
ITEMS_SETTLED = declare(
    "ledger.items_settled", "Foreign-currency lines of a receivable or payable were settled, with their realized difference"
)
SETTLEMENT_UNDONE = declare("ledger.settlement_undone", "A settlement was undone: its lines are open again")
BUDGET_CHANGED = declare("ledger.budget_changed", "A budget was created, renamed or deleted, or its lines were changed")
BUDGET_IMPORTED = declare("ledger.budget_imported", "Budget lines were imported from a CSV file")
BUDGET_APPROVED = declare("ledger.budget_approved", "A budget was approved: its figures are frozen")
BUDGET_REOPENED = declare("ledger.budget_reopened", "An approved budget was returned to draft for changes")
