"""The ledger's record of a journal import: which file (by digest), who, and what it posted.

Each entry an import posts names it as its source (`source_type` "ledger.import",
`source_id` the import's id), so the entry links to its import and the import's page lists
its entries through the entries' source index. The digest lets the same file imported twice
be refused unless the importer confirms it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from keel.core.models import CompanyOwned

__all__ = ["EntryImport"]

SOURCE_TYPE = "ledger.import"


class EntryImport(CompanyOwned):
    """One journal file imported (all of it: a refused file leaves no record)."""

    view_permission = "ledger.view"

    file_name = models.CharField(max_length=200, blank=True)
    file_digest = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    entries = models.PositiveIntegerField(default=0)
    lines = models.PositiveIntegerField(default=0)
    first_number = models.CharField(max_length=50, blank=True)
    last_number = models.CharField(max_length=50, blank=True)
    # Set when the importer confirmed a file whose digest was imported before.
    repeat_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["company", "file_digest"], name="ledger_import_digest")]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.file_name}".strip()
