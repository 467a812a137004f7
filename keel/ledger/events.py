"""The events the ledger emits (recorded as activities by its services)."""

from keel.core.events import declare

ENTRY_POSTED = declare("ledger.entry_posted", "A journal entry was posted to the general ledger")
ENTRY_REVERSED = declare("ledger.entry_reversed", "A posted entry was reversed by a mirror entry")
ENTRIES_BULK_POSTED = declare(
    "ledger.entries_bulk_posted", "A batch of journal entries was posted in one call (import, run)"
)
ENTRY_DRAFTED = declare("ledger.entry_drafted", "A draft journal entry was created or changed")
ENTRY_DRAFT_DELETED = declare("ledger.entry_draft_deleted", "A draft journal entry was deleted")
CHART_APPLIED = declare("ledger.chart_applied", "A chart of accounts template or file was loaded")
ACCOUNT_CHANGED = declare("ledger.account_changed", "An account was created, changed or deactivated")
FISCAL_YEAR_OPENED = declare("ledger.fiscal_year_opened", "A fiscal year and its monthly periods were created")
PERIOD_CLOSED = declare("ledger.period_closed", "A period was closed: it refuses postings")
PERIOD_REOPENED = declare("ledger.period_reopened", "A closed period was reopened, with a reason")
PERIOD_LOCKED = declare("ledger.period_locked", "A period was locked for good")
