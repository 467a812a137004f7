"""Finding one record from what a user, a file or a URL gave: an id, a code or an instance.

Every door reads identifiers through here, so "²", "١٢", "-1", " 7" or a 30-digit number is
treated alike everywhere: not an id (never a ValueError, never a 500), and a record of another
company is found exactly as a record that does not exist: not at all.
"""

from __future__ import annotations

import re
from typing import TypeVar

from django.db import models

# The largest primary key a 64-bit column holds.
MAX_ID = 2**63 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")

M = TypeVar("M", bound=models.Model)


def parse_id(value: object) -> int | None:
    """`value` as a record id: plain ASCII digits from 1 to MAX_ID (an int as it is); else None.

    Python's str.isdigit() and int() take "²" and "١٢"; ids are ASCII only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    text = str(value).strip() if value is not None else ""
    if not _ASCII_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def find_in_company(queryset: models.QuerySet[M], company, reference: object, *,
                    code_field: str | None = "code", by_id: bool = True) -> M | None:
    """The record of `company` named by `reference`: an instance of the model, a code (in
    `code_field`), or an id (when `by_id`). A code wins over an id written the same way. None
    when nothing of this company matches, whatever another company holds."""
    company_id = getattr(company, "pk", company)
    model = queryset.model
    if reference is None or reference == "":
        return None
    if isinstance(reference, model):
        return reference if getattr(reference, "company_id", None) == company_id else None
    rows = queryset.filter(company_id=company_id)
    text = str(reference).strip()
    found = None
    if code_field and text:
        found = rows.filter(**{code_field: text[: model._meta.get_field(code_field).max_length or None]}).first()
    if found is None and by_id:
        number = parse_id(text)
        if number is not None:
            found = rows.filter(pk=number).first()
    return found
