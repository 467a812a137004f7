"""Which documents own the entries they post, and how each is undone.

A department whose documents post entries through a process of theirs (the year-end close,
a settlement, a bank reconciliation; later invoices, bills, payslips) declares it once, in
its AppConfig.ready():

    register_entry_source(
        "billing.invoice", document="invoice", undo="Cancel the invoice",
        undo_service="keel.billing.services.cancel_invoice", page="billing:invoice_detail",
        purposes={"issue": "the invoice's revenue and receivable"},
    )

From then on `reverse_entry` refuses a plain reversal of an entry with that source type,
with a message naming the undo (`entry.owned_by_source`): only the undo service, which
reverses the entry and puts its document back in step, may reverse it, and it says so by
passing `undo_of_source=<source type>` to `reverse_entry`. The entry page shows a link to
the undo instead of the Reverse form.

This registry is the ledger's own; it imports nothing from the web layer (`page` is a URL
name resolved lazily, with the source id as `pk` unless `page_takes_id` is false).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse

from keel.core.records import parse_id


@dataclass(frozen=True)
class EntrySource:
    """A document type that posts entries and the verb that undoes them."""

    source_type: str
    document: str  # what a user calls it: "settlement", "fiscal year"
    undo: str  # the undo's name as the page shows it: "Undo the settlement"
    undo_service: str  # the service that undoes it (dotted path), for the API and CLI user
    page: str = ""  # URL name of the page where the undo is
    page_takes_id: bool = True
    purposes: dict[str, str] = field(default_factory=dict)  # purpose -> what the entry is

    def page_url(self, source_id: str) -> str | None:
        """The page where the undo is, or None when it has none (or the id is not a key)."""
        if not self.page:
            return None
        try:
            if not self.page_takes_id:
                return reverse(self.page)
            pk = parse_id(source_id)
            return reverse(self.page, kwargs={"pk": pk}) if pk is not None else None
        except NoReverseMatch:
            return None

    def refusal_message(self, number: str, source_id: str, *, reverses: str = "") -> str:
        target = f"{self.document} {source_id}".strip()
        if reverses:  # the undo's own reversal: undoing it is the document's business again
            return (f"Entry {number} reversed {reverses} for {target}: it is part of the {self.document}'s "
                    f"history and is not reversed by hand; the {self.document}'s own verbs ('{self.undo}', "
                    f"{self.undo_service}) keep the entries and the {self.document} in step.")
        return (f"Entry {number} was posted by {target}: it is undone only with '{self.undo}' "
                f"({self.undo_service}), which reverses the entry and puts the {self.document} back in step.")


_sources: dict[str, EntrySource] = {}


def register_entry_source(
    source_type: str, *, document: str, undo: str, undo_service: str, page: str = "", page_takes_id: bool = True,
    purposes: dict[str, str] | None = None,
) -> EntrySource:
    """Declare that entries with this source type belong to their document (idempotent)."""
    source = EntrySource(source_type=source_type, document=document, undo=undo, undo_service=undo_service,
                         page=page, page_takes_id=page_takes_id, purposes=dict(purposes or {}))
    _sources[source_type] = source
    return source


def entry_source(source_type: str) -> EntrySource | None:
    """The registered owner of entries with this source type, if any."""
    return _sources.get(source_type) if source_type else None


def registered_sources() -> list[EntrySource]:
    return sorted(_sources.values(), key=lambda s: s.source_type)
