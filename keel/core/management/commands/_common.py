"""What Keel's management commands share: finding companies, reading dates."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from keel.core.models import Company
from keel.core.records import parse_id


def company_by_code(code: str) -> Company:
    """The company with this code (or numeric id); a CommandError naming it otherwise."""
    found = Company.objects.filter(code=code).first()
    if found is None and parse_id(code) is not None:
        found = Company.objects.filter(pk=parse_id(code)).first()
    if found is None:
        known = ", ".join(Company.objects.order_by("code").values_list("code", flat=True)[:20]) or "none yet"
        raise CommandError(f"No company '{code}' (known: {known}).")
    return found


def companies(code: str | None) -> list[Company]:
    """One company by code, or every company ordered by code."""
    if code:
        return [company_by_code(code)]
    return list(Company.objects.order_by("code"))


def parse_date(value: str | None, *, option: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} takes a date as YYYY-MM-DD, not '{value}'.")
