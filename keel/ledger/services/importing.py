"""Import journal entries from a CSV file: all or nothing, every bad row reported.

Columns (header row required): `entry,date,journal,account,label,debit,credit`, optionally
`currency,amount_currency,rate,party,tax,tax_role,cost_centre,due_date,reference,description`
(without `rate`, a foreign-currency line takes the rate its two amounts imply, or the
company's rate of the entry's date). `tax_role` is `base` or `tax` (empty: the tax when the
line is on the code's tax account, else the base, as posting decides). Rows
sharing the same `entry` value form one entry (its date and journal are taken from its
first row and must agree on every row). `party` is a party's id, tax ID or exact name;
`tax` a tax code; `account` an account code; `journal` a journal code; dates are ISO
(YYYY-MM-DD); amounts use a decimal point, and a comma only between groups of three digits
(1,234.56; "1,5" and the ambiguous "1,005" are refused).

Every row is checked first (dates, numbers, accounts, journals, parties, tax codes), then
every entry through the posting service's own validation (balance, periods open, currency
rules); all problems come back together, each with its CSV line number. Only a clean file
is posted, with `post_entries_bulk` inside one transaction: a failure writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from keel.core.exceptions import KeelError, ValidationFailed
from keel.core.models import Company, Party
from keel.ledger.models import Account, CostCentre, Journal, TaxCode
from keel.ledger.services._common import require
from keel.ledger.services.posting import EntryInput, LineInput, check_entries, post_entries_bulk

REQUIRED_COLUMNS = ["entry", "date", "journal", "account", "label", "debit", "credit"]
OPTIONAL_COLUMNS = ["currency", "amount_currency", "rate", "party", "tax", "tax_role", "cost_centre", "due_date",
                    "reference", "description"]
MAX_ROWS = 2_000_000
CHUNK_ENTRIES = 2000  # entries per post_entries_bulk call (all in one transaction)
_LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


@dataclass
class ImportProblem:
    """One problem: the CSV line (1 is the header), the entry key when known, and why."""

    line: int | None
    entry: str
    message: str
    code: str = "import.invalid"

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else f"entry {self.entry}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    entries: int = 0
    lines: int = 0
    posted: bool = False
    errors: list[ImportProblem] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Group:
    key: str
    first_line: int
    journal: str = ""
    date: dt.date | None = None
    reference: str = ""
    description: str = ""
    rows: list[tuple[int, LineInput]] = field(default_factory=list)
    bad: bool = False


# A plain decimal number: ASCII digits, an optional sign and decimal point, commas only
# between groups of three digits. Decimal() alone would also take "1_000", "1e3", " 5" and
# non-ASCII digits.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
# "1,005" alone: a thousands separator (1005) or a decimal comma (1.005)? Refused, not guessed.
_AMBIGUOUS_COMMA = re.compile(r"[+-]?[0-9]{1,3},[0-9]{3}")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")


def _decimal(value: str) -> Decimal | None:
    """A plain decimal number ("1234.56", "1,234.56", "12,345,678"), else None."""
    if _GROUPED_NUMBER.fullmatch(value) and not _AMBIGUOUS_COMMA.fullmatch(value):
        value = value.replace(",", "")
    elif not _PLAIN_NUMBER.fullmatch(value):
        return None
    return Decimal(value)


def _not_a_number(name: str, raw: str) -> str:
    """Why `raw` was refused, with the fix when the mistake is recognisable."""
    shown = raw if len(raw) <= 40 else raw[:40] + "..."
    if _AMBIGUOUS_COMMA.fullmatch(raw):
        return (f"{name} '{raw}' is ambiguous (a decimal comma or a thousands separator?); write "
                f"{raw.replace(',', '.')} or {raw.replace(',', '')}")
    if _DECIMAL_COMMA.fullmatch(raw):
        return f"{name} '{raw}' is not a number; use a decimal point ({raw.replace(',', '.')})"
    if "," in raw:
        return (f"{name} '{shown}' is not a number; use a decimal point, and commas only between groups of "
                "three digits (1,234.56)")
    if "_" in raw:
        return f"{name} '{shown}' is not a number; write it without underscores"
    return f"{name} '{shown}' is not a number"


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


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
        if value.isdigit() and len(value) < 19:
            found = list(parties.filter(pk=int(value)).values_list("pk", flat=True)[:2])
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


def _read(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    text = text.lstrip("\ufeff")
    # Python 3.11+ reads NUL as a character (older versions raise csv.Error); refuse it on
    # every version: it means a binary or UTF-16 file, and PostgreSQL cannot store it.
    nul = text.find("\x00")
    if nul >= 0:
        raise _malformed(text.count("\n", 0, nul) + 1, "it contains a NUL character (save the file as UTF-8 CSV)")
    # newline="" as the csv module expects: a file with CR-only line ends then reads too.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        columns = [c.strip().lower() for c in (reader.fieldnames or [])]
        reader.fieldnames = columns
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise ValidationFailed(f"The file has more than {MAX_ROWS:,} rows; split it.",
                                       code="import.too_large", field="file")
            values = {k: (v or "").strip() for k, v in row.items() if k and isinstance(v, str | type(None))}
            if not any(values.values()):
                continue
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        detail = str(exc)
        if detail.startswith("field larger than field limit"):
            detail = (f"a field is longer than {csv.field_size_limit():,} characters "
                      "(is a quote left open?)")
        # DictReader.line_num is updated only after a good row; its reader's is where it stopped.
        raise _malformed(reader.reader.line_num, detail)
    return columns, rows


def parse_entries(company: Company, text: str) -> tuple[list[_Group], list[ImportProblem]]:
    """Check every row; group rows into entries. Returns the groups and the row errors."""
    columns, rows = _read(text)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationFailed(f"The file lacks the columns: {', '.join(missing)}.", code="import.bad_columns",
                               field="file")
    accounts = set(Account.objects.for_company(company).values_list("code", flat=True))
    journals = set(Journal.objects.for_company(company).values_list("code", flat=True))
    tax_codes = set(TaxCode.objects.for_company(company).values_list("code", flat=True))
    cost_centres = set(CostCentre.objects.for_company(company).values_list("code", flat=True))
    parties = _Parties(company)
    errors: list[ImportProblem] = []
    groups: dict[str, _Group] = {}
    for number, row in rows:
        key = row.get("entry", "")
        problems: list[str] = []
        if not key:
            errors.append(ImportProblem(number, "", "the 'entry' column is empty"))
            continue
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key=key, first_line=number)
        day = _date(row.get("date", ""))
        if day is None:
            problems.append(f"'{row.get('date', '')}' is not a date (YYYY-MM-DD)")
        journal = row.get("journal", "")
        if journal not in journals:
            problems.append(f"no journal '{journal}'")
        if group.rows or group.bad:
            if day is not None and group.date is not None and day != group.date:
                problems.append(f"entry {key} is dated {group.date} on its first row, {day} here")
            if journal and group.journal and journal != group.journal:
                problems.append(f"entry {key} is in journal {group.journal} on its first row, {journal} here")
        else:
            group.date, group.journal = day, journal
            group.reference, group.description = row.get("reference", ""), row.get("description", "")
        account = row.get("account", "")
        if account not in accounts:
            problems.append(f"no account '{account}' in the chart")
        amounts = {}
        for name in ("debit", "credit", "amount_currency", "rate"):
            raw = row.get(name, "")
            if raw == "":
                amounts[name] = None
                continue
            value = _decimal(raw)
            if value is None:
                problems.append(_not_a_number(name, raw))
            amounts[name] = value
        party_id = None
        if row.get("party"):
            resolved = parties.resolve(row["party"])
            if isinstance(resolved, str):
                problems.append(resolved)
            else:
                party_id = resolved
        tax = row.get("tax", "") or None
        if tax is not None and tax not in tax_codes:
            problems.append(f"no tax code '{tax}'")
        tax_role = (row.get("tax_role", "") or "").lower()
        if tax_role and tax_role not in ("base", "tax"):
            problems.append(f"tax_role '{row['tax_role']}' is not base or tax")
        elif tax_role and tax is None:
            problems.append("tax_role needs the tax column")
        cost_centre = row.get("cost_centre", "") or None
        if cost_centre is not None and cost_centre not in cost_centres:
            problems.append(f"no cost centre '{cost_centre}'")
        due = None
        if row.get("due_date"):
            due = _date(row["due_date"])
            if due is None:
                problems.append(f"due_date '{row['due_date']}' is not a date (YYYY-MM-DD)")
        if problems:
            group.bad = True
            errors.extend(ImportProblem(number, key, problem) for problem in problems)
            continue
        group.rows.append((number, LineInput(
            account=account, debit=amounts["debit"], credit=amounts["credit"], label=row.get("label", ""),
            currency=row.get("currency") or None, amount_currency=amounts["amount_currency"], rate=amounts["rate"],
            party=party_id,
            tax_code=tax, tax_role=tax_role, cost_centre=cost_centre, due_date=due,
        )))
    return list(groups.values()), errors


def _posting_error(group: _Group, exc: KeelError) -> ImportProblem:
    """Name the CSV line of a refused line (lines[2].debit -> its row), else the entry."""
    for name in exc.fields:
        match = _LINE_FIELD.match(name)
        if match and int(match.group(1)) < len(group.rows):
            line = group.rows[int(match.group(1))][0]
            column = match.group(2) or ""
            return ImportProblem(line, group.key, f"{column + ': ' if column else ''}{exc.message}", exc.code)
    return ImportProblem(None, group.key, f"entry {group.key} (line {group.first_line}): {exc.message}", exc.code)


def import_entries(
    *, actor, company: Company, text: str, dry_run: bool = False, check_permission: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Validate every row and entry; post them all (one transaction) or nothing.

    `progress(done_lines, total_lines)` is called while posting (the CLI draws a bar).
    With dry_run=True nothing is written whatever the outcome.
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    groups, errors = parse_entries(company, text)
    candidates = [
        (group, EntryInput(group.journal, group.date, [line for _n, line in group.rows], group.reference[:100],
                           group.description[:500], "ledger.import", ""))
        for group in groups if not group.bad
    ]
    refused = dict(check_entries(company=company, entries=[entry for _group, entry in candidates]))
    entries: list[EntryInput] = []
    for index, (group, entry) in enumerate(candidates):
        if index in refused:
            errors.append(_posting_error(group, refused[index]))
        else:
            entries.append(entry)
    result = ImportResult(entries=len(entries), lines=sum(len(e.lines) for e in entries), errors=errors)
    errors.sort(key=lambda e: (e.line or 0, e.entry))
    if errors or dry_run or not entries:
        return result
    ordered = sorted(entries, key=lambda e: e.date)  # numbers follow dates across chunks
    done = 0
    try:
        with transaction.atomic():
            for start in range(0, len(ordered), CHUNK_ENTRIES):
                chunk = ordered[start:start + CHUNK_ENTRIES]
                posted = post_entries_bulk(actor=actor, company=company, entries=chunk, check_permission=False)
                result.numbers.extend(posted.numbers)
                done += posted.lines
                if progress is not None:
                    progress(done, result.lines)
    except KeelError as exc:  # a period closed meanwhile: nothing was written
        result.numbers = []
        result.errors.append(ImportProblem(None, "", exc.message, exc.code))
        return result
    result.posted = True
    return result
