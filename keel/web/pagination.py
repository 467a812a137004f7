"""Pagination: numbered pages for lists people browse, key-set pages for logs.

Key-set pages never count the table: they fetch one row more than they show to know
whether an "older" page exists, and the next page starts below the last key shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from keel.core.records import parse_id

PAGE_SIZE = 50


def page_of(queryset: QuerySet, request, *, size: int = PAGE_SIZE) -> Page:
    """A numbered page; a bad or out-of-range ?page= shows the first or last page, never an error."""
    return Paginator(queryset, size).get_page(request.GET.get("page"))


@dataclass
class KeysetPage:
    rows: list = field(default_factory=list)
    older: int | None = None  # the key to continue from, when there are older rows
    is_first: bool = True

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def keyset_page(queryset: QuerySet, before: str | None, *, key: str = "seq", size: int = PAGE_SIZE) -> KeysetPage:
    """Rows newest first (descending `key`), starting below `before` when given."""
    queryset = queryset.order_by(f"-{key}")
    cursor = parse_id(before)
    if cursor is not None:
        queryset = queryset.filter(**{f"{key}__lt": cursor})
    rows = list(queryset[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows=rows, older=getattr(rows[-1], key) if has_more else None, is_first=cursor is None)
