"""Import journal entries from a CSV file: streamed, all or nothing, every bad row reported.

The file: comma, semicolon or tab separated (detected from the header row), UTF-8 with or
without a byte-order mark, any line ends. Columns (header row required, any order, names
as in `COLUMNS`): `entry,date,journal,account,label,debit,credit`, optionally
`currency,amount_currency,rate,party,tax,tax_role,cost_centre,due_date,reference,description`.
Rows sharing the same `entry` value form one entry and stand together in the file; the
entry's date, journal, reference and description come from its first row (date and journal
must agree on every row). Amounts are read as `keel.core.money.parse_amount` reads them
(decimal point; commas only between groups of three digits; "1,005" is refused as
ambiguous).

How it runs (issue 17): the file is read once, as a stream of rows, in one transaction.
Each row is checked once: the common row (an amount in the company's currency on an active
account, nothing else) by a fast path that builds the line the writer takes, any other row
by the posting service's own line checks; each entry then by the posting service's entry
checks (journal, period open, balance). Valid entries are written in batches of about
`BATCH_LINES` lines while the file is still being read, so memory stays flat whatever the
file's size. Any problem stops the writing; the reading goes on so that every bad row is
named (the first `MAX_LISTED_PROBLEMS` are listed, the rest counted), and at the end the
transaction is rolled back: nothing is written. A quote left open is an error naming its
line, never rows swallowed into a field.

A clean import leaves an `EntryImport` (the file's SHA-256, who, when, what it posted);
each entry it posted names it as its source. The same file imported again is refused
(code import.repeated_file) unless the importer confirms it (`accept_repeat`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import io
import re
from array import array
from collections.abc import Callable, Iterator
from csv import Error as CsvError
from csv import field_size_limit
from csv import reader as csv_reader
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import BinaryIO

from django.db import connection, transaction
from django.db.models import Q

from keel.core.activity import record
from keel.core.bulk import bulk_work
from keel.core.exceptions import KeelError, ValidationFailed
from keel.core.models import Company, Party
from keel.core.money import currency_decimals, parse_amount
from keel.core.records import parse_id
from keel.ledger.choices import PeriodStatus
from keel.ledger.events import ENTRIES_IMPORTED
from keel.ledger.models import Account, CostCentre, Journal, TaxCode
from keel.ledger.models.imports import SOURCE_TYPE, EntryImport
from keel.ledger.services._common import require
from keel.ledger.services.posting import (
    EntryInput,
    LineInput,
    PrevalidatedValidator,
    ValidatedEntry,
    ValidatedLine,
    post_validated_entries,
)

# Every column, required first, with what it holds (the page's help and the template).
COLUMNS: list[tuple[str, bool, str]] = [
    ("entry", True, "Any key shared by the rows of one entry (they stand together in the file)."),
    ("date", True, "The entry's date, YYYY-MM-DD; in an open period."),
    ("journal", True, "The journal's code (GEN, SAL, PUR, BNK, ...)."),
    ("account", True, "The account's code in the chart."),
    ("label", True, "The line's label (may be empty; at most 200 characters)."),
    ("debit", True, "Amount on the debit side, in the company's currency (or empty)."),
    ("credit", True, "Amount on the credit side (or empty). A line has a debit or a credit."),
    ("currency", False, "A foreign currency's ISO code; empty for the company's currency."),
    ("amount_currency", False, "The amount in that currency, signed: positive on the debit side."),
    ("rate", False, "The rate to the company's currency (else the two amounts' ratio, or the day's rate)."),
    ("party", False, "The customer or supplier: its id, tax ID or exact name."),
    ("tax", False, "A tax code."),
    ("tax_role", False, "base or tax (empty: the tax on the code's tax account, else the base)."),
    ("cost_centre", False, "A cost centre's code."),
    ("due_date", False, "When the line falls due, YYYY-MM-DD."),
    ("reference", False, "The entry's reference (first row of the entry; at most 100 characters)."),
    ("description", False, "The entry's description (first row of the entry; at most 500 characters)."),
]
COLUMN_NAMES = [name for name, _required, _help in COLUMNS]
REQUIRED_COLUMNS = [name for name, required, _help in COLUMNS if required]
OPTIONAL_COLUMNS = [name for name, required, _help in COLUMNS if not required]
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
BATCH_LINES = 50_000  # lines validated before a batch is written (all batches in one transaction)
MAX_LISTED_PROBLEMS = 1000  # listed; more are counted (a file of a million bad rows stays readable)
_READ_BYTES = 1 << 20
_LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")
_LINE_OPTIONAL = ("currency", "amount_currency", "rate", "party", "tax", "tax_role", "cost_centre", "due_date")
_NO_OPTIONAL = ("",) * len(_LINE_OPTIONAL)
_ZERO = Decimal(0)
_ONE = Decimal(1)

TEMPLATE_CSV = (
    ",".join(COLUMN_NAMES) + "\r\n"
    "1,2026-03-01,GEN,6100,March rent,1500.00,,,,,,,,,,R-2026-03,Rent\r\n"
    "1,2026-03-01,GEN,1400,,,1500.00,,,,,,,,,,\r\n"
    "2,2026-03-05,SAL,1200,Invoice 12,240.00,,,,,Hooli Ltd,,,,2026-04-04,INV-12,\r\n"
    "2,2026-03-05,SAL,4000,,,200.00,,,,,S20,base,,,,\r\n"
    "2,2026-03-05,SAL,2200,,,40.00,,,,,S20,tax,,,,\r\n"
)


def fast_number(decimals: int) -> Callable[[str], re.Match | None]:
    """A matcher of the amounts the fast path takes as they are: unsigned, plain digits (at most
    11 before the point, so within MAX_AMOUNT), at most `decimals` decimals. Decimal(text) of a
    match equals parse_amount(text) (tested with hypothesis); anything else takes parse_amount."""
    decimal_part = rf"(?:\.[0-9]{{1,{decimals}}})?" if decimals else ""
    return re.compile(r"[0-9]{1,11}" + decimal_part).fullmatch


@dataclass
class ImportProblem:
    """One problem: the CSV line (1 is the header) or, for an entry, its first line; the entry
    key when known; and why."""

    line: int | None
    entry: str
    message: str
    code: str = "import.invalid"
    at: int = 0  # where it sorts: the line, or the entry's first line

    def __str__(self) -> str:
        if self.line:
            return f"line {self.line}: {self.message}"
        if self.entry:
            return f"entry {self.entry} (line {self.at}): {self.message}"
        return self.message


@dataclass
class ImportResult:
    """What an import did: counts, the numbers it gave, its record, or its problems."""

    entries: int = 0
    lines: int = 0
    posted: bool = False
    errors: list[ImportProblem] = field(default_factory=list)
    problem_count: int = 0  # every problem found; `errors` lists the first MAX_LISTED_PROBLEMS
    first_number: str = ""
    last_number: str = ""
    import_id: int | None = None
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def unlisted_problems(self) -> int:
        return self.problem_count - len(self.errors)


class _Parties:
    """Resolves a party column by id, tax ID or exact (case-insensitive) name, cached."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.cache: dict[str, int | str] = {}

    def resolve(self, value: str) -> int | str:
        """The party's id, or an error message."""
        if value in self.cache:
            return self.cache[value]
        parties = Party.objects.for_company(self.company)
        if parse_id(value) is not None:
            found = list(parties.filter(pk=parse_id(value)).values_list("pk", flat=True)[:2])
        else:
            found = list(parties.filter(Q(tax_id__iexact=value) | Q(name__iexact=value))
                         .values_list("pk", flat=True)[:2])
        if not found:
            answer: int | str = f"no party '{value}' in {self.company.code}"
        elif len(found) > 1:
            answer = f"several parties match '{value}'; use the party's id"
        else:
            answer = found[0]
        self.cache[value] = answer
        return answer


def _malformed(line: int, detail: str) -> ValidationFailed:
    return ValidationFailed(f"The file is not readable CSV at line {line}: {detail}.", code="import.malformed",
                            field="file")


def _line_ends(text: str) -> int:
    return text.count("\n") + text.count("\r") - text.count("\r\n")


class _Source:
    """The file as text lines, read in chunks of a megabyte: UTF-8 (a byte-order mark
    dropped), any line ends (LF, CRLF, CR), NUL refused (a binary or UTF-16 file), each
    refusal naming its line. Counts the bytes read, for progress."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.bytes_read = 0

    def lines(self) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        done = 0  # line ends before `carry`
        carry = ""
        first = True
        while True:
            data = self.stream.read(_READ_BYTES)
            self.bytes_read += len(data)
            final = not data
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                before = data[:max(exc.start, 0)].decode("utf-8", "replace")
                line = done + _line_ends(carry + before) + 1
                raise ValidationFailed(f"The file is not UTF-8 text (line {line}): save it as UTF-8 CSV.",
                                       code="import.encoding", field="file")
            if first and text:
                text, first = text.removeprefix("\ufeff"), False
            text = carry + text
            nul = text.find("\x00")
            if nul >= 0:
                raise _malformed(done + _line_ends(text[:nul]) + 1,
                                 "it contains a NUL character (save the file as UTF-8 CSV)")
            if final:
                carry = ""
            else:
                # Hold back the last line, unfinished (and a CR that a LF may follow).
                cut = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1)) + 1
                carry, text = text[cut:], text[:cut]
            done += _line_ends(text)
            yield from io.StringIO(text, newline="")
            if final:
                return


def _delimiter(header: str) -> str:
    """The separator that splits the header into the most known column names (comma on a tie)."""
    known = set(COLUMN_NAMES)

    def score(delimiter: str) -> int:
        return sum(1 for name in header.split(delimiter) if name.strip().strip('"').strip().lower() in known)

    return max(DELIMITERS, key=score)


class _KeySet:
    """The entry keys met, as their 64-bit hashes in an open-addressing table: 8 to 16 bytes a
    key, where a Python set of them takes about 70 (130 MB at two million entries). Two keys
    whose hashes collide (about one chance in 10^7 for two million keys) would be reported as
    rows of one entry that do not stand together."""

    def __init__(self) -> None:
        self.table = array("q", bytes(8 * 1024))
        self.mask = 1023
        self.count = 0

    def add(self, key: str) -> bool:
        """Remember `key`; False when it was met before."""
        value = hash(key) or 1  # 0 marks an empty slot
        table, mask = self.table, self.mask
        slot = value & mask
        while True:
            found = table[slot]
            if found == 0:
                table[slot] = value
                self.count += 1
                if self.count * 4 > len(table) * 3:
                    self._grow()
                return True
            if found == value:
                return False
            slot = (slot + 1) & mask

    def _grow(self) -> None:
        old = self.table
        self.table = array("q", bytes(16 * len(old)))
        self.mask = len(self.table) - 1
        self.count = 0
        table, mask = self.table, self.mask
        for value in old:
            if value:
                slot = value & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = value
                self.count += 1


@dataclass
class _Group:
    """The entry being read: its first row's values and its lines so far."""

    key: str
    first_line: int
    index: int
    date_raw: str
    journal_raw: str
    date: dt.date | None
    date_problem: str
    journal_problem: str
    reference: str
    description: str
    lines: list = field(default_factory=list)
    bad: bool = False
    plain: bool = True  # every line came through the fast path


class _Import:
    """One run over a file: reads, checks, writes in batches (see the module's docstring)."""

    def __init__(self, *, actor, company: Company, dry_run: bool, progress, total_bytes: int) -> None:
        self.actor = actor
        self.company = company
        self.dry_run = dry_run
        self.progress = progress
        self.total_bytes = total_bytes
        self.validator = PrevalidatedValidator(company)
        accounts = list(Account.objects.for_company(company).values_list("code", "pk", "currency_id", "is_active"))
        self.accounts = {code for code, *_rest in accounts}
        # The accounts the fast path takes: active, in any currency (no currency of their own).
        self.plain_accounts = {code: pk for code, pk, currency, active in accounts if active and not currency}
        self.journals = set(Journal.objects.for_company(company).values_list("code", flat=True))
        self.tax_codes = set(TaxCode.objects.for_company(company).values_list("code", flat=True))
        self.cost_centres = set(CostCentre.objects.for_company(company).values_list("code", flat=True))
        self.parties = _Parties(company)
        # What an entry of plain lines needs, for the entry's fast path in `close`.
        self.open_journals = {code: journal for code, journal in self.validator.journals_by_code.items()
                              if journal.is_active}
        self.open_periods = {key: period for key, period in self.validator.periods.items()
                             if period.status == PeriodStatus.OPEN}
        self.base = company.base_currency_id
        self.fast = fast_number(currency_decimals(self.base))
        self.dates: dict[str, dt.date | None] = {}
        self.errors: list[ImportProblem] = []
        self.problem_count = 0
        self.seen = _KeySet()  # the entry keys met (the rows of an entry stand together)
        self.batch: list = []
        self.batch_lines = 0
        self.entries = 0
        self.lines = 0
        self.first_number = ""
        self.last_number = ""
        self.source_id = ""

    # -- problems ---------------------------------------------------------------------------

    def problem(self, line: int | None, key: str, message: str, code: str = "import.invalid", at: int = 0) -> None:
        self.problem_count += 1
        if len(self.errors) < MAX_LISTED_PROBLEMS:
            self.errors.append(ImportProblem(line, key, message, code, at or line or 0))
        # Once anything is wrong nothing will be written: drop what waits.
        self.batch, self.batch_lines = [], 0

    def date(self, raw: str) -> dt.date | None:
        try:
            return self.dates[raw]
        except KeyError:
            pass
        try:
            day: dt.date | None = dt.date.fromisoformat(raw.strip())
        except ValueError:
            day = None
        if len(self.dates) < 10_000:
            self.dates[raw] = day
        return day

    # -- rows -------------------------------------------------------------------------------

    def run(self, source: _Source) -> None:
        self.source = source
        lines = source.lines()
        header = next(lines, "")
        if not header.strip():
            raise ValidationFailed("The file is empty: it needs a header row and entries.", code="import.bad_columns",
                                   field="file")
        self.delimiter = _delimiter(header)
        reader = csv_reader(chain([header], lines), delimiter=self.delimiter, strict=True)
        previous = 0
        try:
            columns = [name.strip().lower() for name in next(reader)]
            previous = reader.line_num
            missing = [name for name in REQUIRED_COLUMNS if name not in columns]
            if missing:
                raise ValidationFailed(f"The file lacks the columns: {', '.join(missing)}.",
                                       code="import.bad_columns", field="file")
            width = len(columns)
            position = {}
            for index, name in enumerate(columns):
                position.setdefault(name, index)
            # Missing optional columns read the empty string appended to every row.
            required = itemgetter(*[position[name] for name in REQUIRED_COLUMNS])
            optional = itemgetter(*[position.get(name, width) for name in _LINE_OPTIONAL])
            entry_text = itemgetter(position.get("reference", width), position.get("description", width))
            self.required, self.optional = required, optional
            group: _Group | None = None
            plain_accounts, fast, base, line_type = self.plain_accounts, self.fast, self.base, ValidatedLine
            zero, one = _ZERO, _ONE
            for row in reader:
                number = reader.line_num
                if number != previous + 1:
                    # The row ran over a line end: a field whose quote was never closed.
                    raise _malformed(previous + 1, "a quote is left open (a field runs past the end of its line)")
                previous = number
                if len(row) != width:
                    if not row:
                        continue
                    row = (row + [""] * width)[:width]
                row.append("")
                key, date_raw, journal_raw, account, label, debit_raw, credit_raw = required(row)
                if group is not None and (key == group.key or key.strip() == group.key):
                    same = date_raw == group.date_raw and journal_raw == group.journal_raw
                else:
                    if group is not None:
                        self.close(group)
                    group = self.open(key.strip(), number, date_raw, journal_raw, row, entry_text)
                    if group is None:
                        continue
                    same = True
                if same and not group.bad and optional(row) == _NO_OPTIONAL:
                    # The common row: an amount in the company's currency on an active account
                    # with no currency of its own, nothing else. Anything this does not take
                    # outright goes through every check below, which names the problem.
                    account_id = plain_accounts.get(account)
                    if account_id is not None and len(label) <= 200:
                        debit = zero if debit_raw == "" else (Decimal(debit_raw) if fast(debit_raw) else None)
                        credit = zero if credit_raw == "" else (Decimal(credit_raw) if fast(credit_raw) else None)
                        if debit is not None and credit is not None and (not debit or not credit) and (
                                debit or credit):
                            group.lines.append(line_type(account_id, label.strip(), debit, credit, base,
                                                         debit - credit, one, None, None, "", None, None, "", ""))
                            continue
                self.row(group, number, row, same_header=same)
            if group is not None:
                self.close(group)
            self.flush()
        except CsvError as exc:
            detail = str(exc)
            if detail.startswith("field larger than field limit"):
                detail = f"a field is longer than {field_size_limit():,} characters (is a quote left open?)"
            elif detail == "unexpected end of data":
                detail = "a quote is left open (a field runs past the end of its line)"
            raise _malformed(previous + 1, detail)
        if self.progress is not None:
            self.progress(self.total_bytes, self.total_bytes)

    def open(self, key: str, number: int, date_raw: str, journal_raw: str, row: list, entry_text) -> _Group | None:
        """Start an entry on its first row (its line is checked as every row's)."""
        if not key:
            if any(value.strip() for value in row):
                self.problem(number, "", "the 'entry' column is empty")
            return None
        if not self.seen.add(key):
            self.problem(number, key, f"entry {key} has rows earlier in the file, separated from these by other "
                                      "entries: keep the rows of an entry together")
            return None
        day = self.date(date_raw)
        journal = journal_raw.strip()
        reference, description = entry_text(row)
        group = _Group(
            key=key, first_line=number, index=self.entries + len(self.batch), date_raw=date_raw,
            journal_raw=journal_raw, date=day,
            date_problem="" if day is not None else f"'{date_raw.strip()}' is not a date (YYYY-MM-DD)",
            journal_problem="" if journal in self.journals else f"no journal '{journal}'",
            reference=reference.strip(), description=description.strip(),
        )
        group.bad = bool(group.date_problem or group.journal_problem)
        return group

    def row(self, group: _Group, number: int, row: list, *, same_header: bool) -> None:
        """Check one row with every rule, naming each of its problems; a clean row's line is
        checked by the posting service's line checks."""
        values = [value.strip() for value in row]
        _key, date_raw, journal_raw, account, label, debit_raw, credit_raw = self.required(values)
        currency, amount_currency_raw, rate_raw, party, tax, tax_role_raw, cost_centre, due_raw = self.optional(values)
        problems: list[str] = []
        if same_header:
            # The row shares its entry's date and journal: their problem (if any) is its too.
            if group.date_problem:
                problems.append(group.date_problem)
            if group.journal_problem:
                problems.append(group.journal_problem)
        else:
            day = self.date(date_raw)
            if day is None:
                problems.append(f"'{date_raw}' is not a date (YYYY-MM-DD)")
            elif group.date is not None and day != group.date:
                problems.append(f"entry {group.key} is dated {group.date} on its first row, {day} here")
            if journal_raw not in self.journals:
                problems.append(f"no journal '{journal_raw}'")
            elif not group.journal_problem and journal_raw != group.journal_raw.strip():
                problems.append(f"entry {group.key} is in journal {group.journal_raw.strip()} on its first row, "
                                f"{journal_raw} here")
        if account not in self.accounts:
            problems.append(f"no account '{account}' in the chart")
        amounts: dict[str, Decimal | None] = {}
        for name, raw in (("debit", debit_raw), ("credit", credit_raw), ("amount_currency", amount_currency_raw),
                          ("rate", rate_raw)):
            if raw == "":
                amounts[name] = None
                continue
            try:
                amounts[name] = parse_amount(raw, field=name, decimals=10 if name == "rate" else 4)
            except ValidationFailed as exc:
                problems.append(exc.message)
                amounts[name] = None
        party_id = None
        if party:
            resolved = self.parties.resolve(party)
            if isinstance(resolved, str):
                problems.append(resolved)
            else:
                party_id = resolved
        tax_code = tax or None
        if tax_code is not None and tax_code not in self.tax_codes:
            problems.append(f"no tax code '{tax_code}'")
        tax_role = tax_role_raw.lower()
        if tax_role and tax_role not in ("base", "tax"):
            problems.append(f"tax_role '{tax_role_raw}' is not base or tax")
        elif tax_role and tax_code is None:
            problems.append("tax_role needs the tax column")
        if cost_centre and cost_centre not in self.cost_centres:
            problems.append(f"no cost centre '{cost_centre}'")
        due = None
        if due_raw:
            due = self.date(due_raw)
            if due is None:
                problems.append(f"due_date '{due_raw}' is not a date (YYYY-MM-DD)")
        if problems:
            group.bad = True
            for message in problems:
                self.problem(number, group.key, message)
            return
        if group.date is None:
            return  # no date to check the line against (its problem is named above)
        line = LineInput(
            account=account, debit=amounts["debit"] if amounts["debit"] is not None else _ZERO,
            credit=amounts["credit"] if amounts["credit"] is not None else _ZERO, label=label,
            currency=currency or None, amount_currency=amounts["amount_currency"], rate=amounts["rate"],
            party=party_id, tax_code=tax_code, tax_role=tax_role, cost_centre=cost_centre or None, due_date=due,
        )
        group.plain = False
        try:
            checked = self.validator.line(line, len(group.lines), group.date, group.index, True)
        except KeelError as exc:
            group.bad = True
            column = ""
            for name in exc.fields:
                match = _LINE_FIELD.match(name)
                if match:
                    column = match.group(2) or ""
                    break
            self.problem(number, group.key, f"{column + ': ' if column else ''}{exc.message}", exc.code)
            return
        if not group.bad:  # a bad entry's rows are still checked, each problem named
            group.lines.append(checked)

    # -- entries and batches ----------------------------------------------------------------

    def close(self, group: _Group) -> None:
        """Check a whole entry (journal, period, balance) and queue it for writing."""
        if group.bad:
            return
        entry = self.plain_entry(group) if group.plain else None
        if entry is None:
            try:
                entry = self.validator.entry(
                    EntryInput(group.journal_raw.strip(), group.date, group.lines, group.reference[:100],
                               group.description[:500], SOURCE_TYPE, self.source_id),
                    group.index,
                )
            except KeelError as exc:
                self.problem(None, group.key, exc.message, exc.code, at=group.first_line)
                return
        if self.problem_count:
            return
        self.batch.append(entry)
        self.batch_lines += len(entry.lines)
        if self.batch_lines >= BATCH_LINES:
            self.flush()

    def plain_entry(self, group: _Group):
        """The validated entry of plain lines in an active journal and an open period that
        balances, built here; None for anything else, which the posting service's entry
        checks then take (and name). Plain lines are in the company's currency with no tax
        code, so the per-currency balance and the tax groups have nothing to check."""
        lines, day = group.lines, group.date
        journal = self.open_journals.get(group.journal_raw)
        period = self.open_periods.get((day.year, day.month))
        if journal is None or period is None or len(lines) < 2:
            return None
        total_debit = sum([line[2] for line in lines], _ZERO)
        if total_debit != sum([line[3] for line in lines], _ZERO):
            return None
        return ValidatedEntry(journal, day, period, group.reference[:100], group.description[:500], SOURCE_TYPE,
                              self.source_id, lines, total_debit)

    def flush(self) -> None:
        batch, self.batch, self.batch_lines = self.batch, [], 0
        if not batch or self.problem_count:
            return
        self.entries += len(batch)
        self.lines += sum(len(entry.lines) for entry in batch)
        if self.progress is not None:
            self.progress(self.source.bytes_read, self.total_bytes)
        if self.dry_run:
            return
        posted = post_validated_entries(actor=self.actor, company=self.company, entries=batch)
        self.first_number = self.first_number or posted.numbers[0]
        self.last_number = posted.numbers[-1]


class _RollBack(Exception):
    """Raised inside the import's transaction to undo it when any row was refused."""


def file_digest(stream: BinaryIO) -> str:
    """SHA-256 of a seekable file's bytes (it is read back from the start afterwards)."""
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(_READ_BYTES):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _size(stream: BinaryIO) -> int:
    position = stream.tell()
    size = stream.seek(0, io.SEEK_END)
    stream.seek(position)
    return size


def find_earlier_import(company: Company, digest: str) -> EntryImport | None:
    """The first import of the company with this file digest, if any."""
    return EntryImport.objects.for_company(company).filter(file_digest=digest).order_by("id").first()


def _check_repeat(company: Company, digest: str, *, accept_repeat: bool) -> EntryImport | None:
    """The earlier import of this file, if any; refused unless the importer confirmed the repeat."""
    earlier = find_earlier_import(company, digest)
    if earlier is not None and not accept_repeat:
        span = f", {earlier.first_number} .. {earlier.last_number}" if earlier.first_number else ""
        raise ValidationFailed(
            f"This file was imported already on {earlier.imported_at:%Y-%m-%d} (import #{earlier.pk}: "
            f"{earlier.entries} entries{span}). Import it again only if its entries are new: confirm the repeat.",
            code="import.repeated_file", field="file")
    return earlier


def import_entries(
    *, actor, company: Company, text: str | None = None, file: BinaryIO | None = None, file_name: str = "",
    dry_run: bool = False, accept_repeat: bool = False, check_permission: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Check every row and entry of a journal file; post them all (one transaction) or nothing.

    Give the file as `file` (binary, seekable: read as a stream) or as `text`. A file whose
    digest was imported already is refused (import.repeated_file) unless `accept_repeat`.
    `progress(bytes_read, total_bytes)` is called while reading (the CLI draws a bar). With
    dry_run=True nothing is written whatever the outcome. A file that cannot be read (not
    UTF-8, a quote left open, missing columns) raises ValidationFailed on `file`; refused rows
    and entries come back in the result's `errors`, and then nothing was written.
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    if file is None:
        file = io.BytesIO((text or "").encode("utf-8"))
    digest = file_digest(file)
    earlier = _check_repeat(company, digest, accept_repeat=accept_repeat)
    run = _Import(actor=actor, company=company, dry_run=dry_run, progress=progress, total_bytes=_size(file))
    source = _Source(file)
    result = ImportResult()
    if dry_run:
        with bulk_work():
            run.run(source)
        return _result(run, result)
    try:
        with transaction.atomic():
            # Checked again inside the transaction: of two imports of one file at once, the
            # second waits here (PostgreSQL: a lock on the company and digest; SQLite: the
            # IMMEDIATE transaction) and then finds the first.
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [company.pk, int(digest[:8], 16) - 2 ** 31])
            earlier = _check_repeat(company, digest, accept_repeat=accept_repeat)
            batch_record = EntryImport.objects.create(
                company=company, file_name=file_name[:200], file_digest=digest, repeat_of=earlier,
                imported_by=actor if getattr(actor, "pk", None) else None)
            run.source_id = str(batch_record.pk)
            with bulk_work():
                run.run(source)
            if run.problem_count or not run.entries:
                raise _RollBack
            EntryImport.objects.filter(pk=batch_record.pk).update(
                entries=run.entries, lines=run.lines, first_number=run.first_number, last_number=run.last_number)
            record(company=company, actor=actor, verb=ENTRIES_IMPORTED.name, subject_type=SOURCE_TYPE,
                   subject_id=str(batch_record.pk), subject_repr=f"Import #{batch_record.pk} {file_name}".strip(),
                   data={"file_name": file_name, "file_digest": digest, "entries": run.entries, "lines": run.lines,
                         "first_number": run.first_number, "last_number": run.last_number,
                         "repeat_of": earlier.pk if earlier is not None else None})
    except _RollBack:
        return _result(run, result)
    except KeelError as exc:
        if exc.code.startswith("import."):
            raise
        # A refusal at writing (a period closed meanwhile): nothing was written.
        run.problem(None, "", exc.message, exc.code)
        return _result(run, result)
    result = _result(run, result)
    result.posted = True
    result.import_id = batch_record.pk
    return result


def _result(run: _Import, result: ImportResult) -> ImportResult:
    result.errors = sorted(run.errors, key=lambda problem: (problem.at, problem.entry))
    result.problem_count = run.problem_count
    result.entries, result.lines = run.entries, run.lines
    result.delimiter = getattr(run, "delimiter", ",")
    if not result.errors and not run.dry_run:
        result.first_number, result.last_number = run.first_number, run.last_number
    if result.errors:
        result.entries = result.lines = 0
    return result
