"""The digest of a posted entry: what `keel ledger verify` compares to find a changed entry.

The posting service records on each entry, as it posts it, a digest of its content (journal,
date, number, reference, description, source, reversed entry) and of every line in position
order (account, label, amounts, currency, rate, party, tax code and role, due date, cost
centre, source: everything a line says), and the number of its lines. The database refuses
changes to posted entries (triggers, migrations 0002 and 0013), but a trigger can be dropped or
disabled, and a SQLite file can be edited by any program: the digest tells afterwards which
entry no longer says what was posted. `verify_entry_digests` recomputes it from the rows.

The canonical form is what both engines give back: text as it is, ids as decimal text, dates
in ISO form, amounts as floats (within MAX_AMOUNT, 15 significant digits, a float is exact
and the same for "100" and "100.0000"), rates rounded to 15 significant digits (what SQLite
keeps), fields separated by control characters and the line count hashed as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Context, Decimal
from hashlib import blake2b

_FIFTEEN = Context(prec=15)
# The posting service's own 1 (the rate of every line in the company's currency): a line
# carrying this very object needs no conversion.
ONE = Decimal(1)

# The columns of ledger_line the digest covers, in its order (the posting service's _Line).
LINE_FIELDS = ("account_id", "label", "debit", "credit", "currency_id", "amount_currency", "rate", "party_id",
               "tax_code_id", "tax_role", "due_date", "cost_centre_id", "source_type", "source_id")
ENTRY_FIELDS = ("journal_id", "date", "number", "reference", "description", "source_type", "source_id",
                "reversal_of_id")


def _rate_text(rate: Decimal) -> str:
    # SQLite keeps 15 significant digits of a rate (its REAL) and Django reads it back
    # rounded to 15: the rate rounded so, as a float, is what either engine gives back.
    if rate is ONE:
        return "1.0"
    return repr(float(_FIFTEEN.create_decimal_from_float(float(rate))))


def _line_text(line) -> str:
    # One f-string per line: this runs for every line a bulk posting writes. Amounts are
    # within MAX_AMOUNT (15 significant digits), so their float is exact and canonical
    # ("100", "100.00" and "100.0000" alike); ids, dates and None print the same from both
    # engines as at posting.
    (account_id, label, debit, credit, currency, amount_currency, rate, party_id, tax_code_id, tax_role, due_date,
     cost_centre_id, source_type, source_id) = line
    # "+ 0.0" makes a negative zero (a reversed zero amount: 0 x -1) the zero the database keeps.
    return (f"{account_id}\x1f{label}\x1f{(float(debit) + 0.0)!r}\x1f{(float(credit) + 0.0)!r}\x1f{currency}\x1f"
            f"{(float(amount_currency) + 0.0)!r}\x1f{_rate_text(rate)}\x1f{party_id}\x1f{tax_code_id}\x1f{tax_role}\x1f"
            f"{due_date}\x1f{cost_centre_id}\x1f{source_type}\x1f{source_id}")


def entry_digest(header: Iterable, lines: Iterable[Iterable]) -> str:
    """The digest (32 hex characters) of an entry's header values (ENTRY_FIELDS) and its lines'
    values (LINE_FIELDS each), lines in position order."""
    journal_id, date, number, reference, description, source_type, source_id, reversal_of_id = header
    parts = [f"{journal_id}\x1f{date}\x1f{number}\x1f{reference}\x1f{description}\x1f{source_type}\x1f"
             f"{source_id}\x1f{reversal_of_id}"]
    parts += map(_line_text, lines)
    parts.append(str(len(parts) - 1))
    return blake2b("\x1e".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass(frozen=True)
class EntryDigestDifference:
    """A posted entry whose rows no longer give the digest recorded when it was posted."""

    entry_id: int
    journal: str
    number: str
    recorded: str | None
    recomputed: str
    recorded_lines: int | None
    lines: int

    def __str__(self) -> str:
        if self.recorded is None:
            return f"entry {self.journal} {self.number} (#{self.entry_id}): posted without a digest"
        what = "its lines or header changed"
        if self.recorded_lines is not None and self.recorded_lines != self.lines:
            what = f"it had {self.recorded_lines} lines when posted and has {self.lines}"
        return f"entry {self.journal} {self.number} (#{self.entry_id}) changed since it was posted: {what}"


def _lines_by_entry(company_id: int, entry_ids: list[int]) -> Iterator[tuple[int, list[tuple]]]:
    # Raw rows, not the ORM's: its per-value converters tripled the time of a verify. The
    # canonical form does not need them: a REAL amount from SQLite and a NUMERIC from
    # PostgreSQL give the same float, and a date prints the same as its ISO text.
    from django.db import connection

    columns = ", ".join(LINE_FIELDS)
    placeholders = ", ".join(["%s"] * len(entry_ids))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT entry_id, {columns} FROM ledger_line WHERE entry_id IN ({placeholders})"
                       " ORDER BY entry_id, position, id", entry_ids)
        rows = cursor.fetchall()
    current, lines = None, []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield current, lines
            current, lines = row[0], []
        lines.append(row[1:])
    if current is not None:
        yield current, lines


def verify_entry_digests(company_id: int, *, chunk: int = 2000) -> tuple[int, list[EntryDigestDifference]]:
    """(entries checked, the posted or reversed entries of the company whose digest or line
    count differs from their rows), reading entries by id in chunks and their lines by entry."""
    from keel.ledger.choices import EntryStatus
    from keel.ledger.models import Entry, Journal

    journals = dict(Journal.objects.filter(company_id=company_id).values_list("pk", "code"))
    differences: list[EntryDigestDifference] = []
    checked, last_id = 0, 0
    while True:
        entries = list(Entry.objects.filter(company_id=company_id, pk__gt=last_id)
                       .exclude(status=EntryStatus.DRAFT).order_by("pk")
                       .values_list("pk", "digest", "line_count", *ENTRY_FIELDS)[:chunk])
        if not entries:
            break
        last_id = entries[-1][0]
        lines = dict(_lines_by_entry(company_id, [row[0] for row in entries]))
        for entry_id, recorded, recorded_lines, *header in entries:
            checked += 1
            own = lines.get(entry_id, [])
            recomputed = entry_digest(header, own)
            if recorded != recomputed or recorded_lines != len(own):
                differences.append(EntryDigestDifference(entry_id, journals.get(header[0], "?"), header[2], recorded,
                                                         recomputed, recorded_lines, len(own)))
    return checked, differences
