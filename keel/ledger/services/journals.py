"""Journals: the books entries are written in, each with its own gapless numbering."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.numbering import ensure_sequence
from keel.ledger.choices import JournalKind
from keel.ledger.models import Journal
from keel.ledger.services._common import require

# code -> (name, kind); created with the chart.
DEFAULT_JOURNALS = {
    "SAL": ("Sales", JournalKind.SALES),
    "PUR": ("Purchases", JournalKind.PURCHASES),
    "BNK": ("Bank", JournalKind.BANK),
    "CSH": ("Cash", JournalKind.CASH),
    "PAY": ("Payroll", JournalKind.PAYROLL),
    "GEN": ("General", JournalKind.GENERAL),
    "OPN": ("Opening balances", JournalKind.OPENING),
}
ENTRY_NUMBER_PATTERN = "{prefix}/{year}/{number:06d}"


def sequence_code_for(journal_code: str) -> str:
    return f"journal-{journal_code.lower()}"


def _ensure_journal_sequence(company: Company, code: str, name: str) -> str:
    sequence_code = sequence_code_for(code)
    ensure_sequence(company=company, code=sequence_code, name=f"Journal {code} ({name})",
                    pattern=ENTRY_NUMBER_PATTERN, prefix=code.upper())
    return sequence_code


def ensure_default_journals(*, company: Company) -> list[Journal]:
    """Create the standard journals (and their number sequences) the company lacks."""
    existing = {j.code: j for j in Journal.objects.for_company(company)}
    for code, (name, kind) in DEFAULT_JOURNALS.items():
        if code not in existing:
            sequence_code = _ensure_journal_sequence(company, code, name)
            existing[code] = Journal.objects.create(
                company=company, code=code, name=name, kind=kind, sequence_code=sequence_code
            )
    return sorted(existing.values(), key=lambda j: j.code)


def create_journal(*, actor, company: Company, code: str, name: str, kind: str, check_permission: bool = True) -> Journal:
    """Add a journal (e.g. a second bank) with its own entry numbering."""
    require(actor, company, "ledger.manage", check_permission=check_permission)
    code, name = (code or "").strip().upper(), (name or "").strip()
    if not code or len(code) > 10 or not code.isalnum():
        raise ValidationFailed("A journal code has 1 to 10 letters or digits.", code="journal.invalid", field="code")
    if not name:
        raise ValidationFailed("A journal needs a name.", code="journal.invalid", field="name")
    if kind not in JournalKind.values:
        raise ValidationFailed(f"'{kind}' is not a journal kind.", code="journal.invalid", field="kind")
    try:
        with transaction.atomic():
            sequence_code = _ensure_journal_sequence(company, code, name)
            return Journal.objects.create(company=company, code=code, name=name, kind=kind, sequence_code=sequence_code)
    except IntegrityError:
        raise ValidationFailed(f"The journal '{code}' exists already.", code="journal.duplicate_code", field="code")
