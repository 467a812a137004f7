"""The ledger's status graphs, as data (see keel.core.transitions.apply_transition)."""

from keel.ledger.choices import EntryStatus, PeriodStatus

# Closed periods can be reopened (with a recorded reason); locked ones never.
PERIOD_TRANSITIONS = frozenset(
    {
        (PeriodStatus.OPEN, PeriodStatus.CLOSED),
        (PeriodStatus.CLOSED, PeriodStatus.OPEN),
        (PeriodStatus.CLOSED, PeriodStatus.LOCKED),
    }
)

FISCAL_YEAR_TRANSITIONS = PERIOD_TRANSITIONS

# Posting happens in the posting service (it also writes lines and balances); reversal is
# the only change a posted entry ever undergoes, and the database triggers allow only it.
ENTRY_TRANSITIONS = frozenset(
    {
        (EntryStatus.DRAFT, EntryStatus.POSTED),
        (EntryStatus.POSTED, EntryStatus.REVERSED),
    }
)
