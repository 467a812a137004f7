"""The ledger's domain errors; all carry stable codes (see docs/design/ledger.md)."""

from keel.core.exceptions import Conflict, ValidationFailed


class PostingRefused(ValidationFailed):
    """An entry that breaks a posting rule; nothing was written."""

    default_code = "entry.invalid"


class AccountInUse(Conflict):
    """An account with lines cannot be deleted (deactivate it instead)."""

    default_code = "account.in_use"
