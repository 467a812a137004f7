"""Bank statements exported as CSV, read with the column mapping saved on the bank account.

The mapping names the columns by their header (the first row after `skip_rows`):

    {"delimiter": ";", "skip_rows": 0, "date_column": "Date", "date_format": "%d.%m.%Y",
     "amount_column": "Amount"  (or "debit_column" + "credit_column"),
     "decimal_separator": ",", "reference_column": "Reference", "counterparty_column": "Name",
     "counterparty_iban_column": "IBAN", "description_column": "Text", "transaction_id_column": "Id"}

Amounts are read as banks write them (keel.core.money.parse_amount, lenient): "$1,234.50",
"EUR 12,00", "(12.50)" and "12.50-" for negatives, with the mapping's decimal separator.
With separate debit and credit columns a row's amount is its credit less its debit.

A CSV carries no balances: the import takes the opening balance given (or the previous
statement's closing) and adds the lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from decimal import Decimal

from keel.core.exceptions import ValidationFailed
from keel.core.money import parse_amount
from keel.ledger.bank import ParsedLine, ParsedStatement, StatementError, decode

MAPPING_FIELDS = {
    "delimiter": ",", "skip_rows": 0, "date_column": "", "date_format": "%Y-%m-%d", "amount_column": "",
    "debit_column": "", "credit_column": "", "decimal_separator": ".", "reference_column": "",
    "counterparty_column": "", "counterparty_iban_column": "", "description_column": "", "transaction_id_column": "",
}
MAX_SETTING_LENGTH = 100
TEXT_COLUMNS = ("reference_column", "counterparty_column", "counterparty_iban_column", "description_column",
                "transaction_id_column")


def clean_mapping(raw: dict) -> dict:
    """The mapping with defaults filled in; raise StatementError naming a missing or bad setting."""
    unknown = sorted(str(key) for key in raw if key not in MAPPING_FIELDS)
    if unknown:
        raise StatementError(f"Unknown CSV mapping settings: {', '.join(unknown)[:200]} (known: "
                             f"{', '.join(MAPPING_FIELDS)}).")
    for key, value in raw.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise StatementError(f"The CSV mapping's '{key}' is a text or a number.")
        if isinstance(value, str) and len(value) > MAX_SETTING_LENGTH:
            raise StatementError(f"The CSV mapping's '{key}' has more than {MAX_SETTING_LENGTH} characters.")
    mapping = {key: (raw.get(key) if raw.get(key) not in (None, "") else default) for key, default in MAPPING_FIELDS.items()}
    for key, value in mapping.items():
        if key != "skip_rows":
            mapping[key] = str(value).strip() if key != "delimiter" else str(value)
    if mapping["delimiter"] in ("\\t", "tab"):
        mapping["delimiter"] = "\t"
    if len(mapping["delimiter"]) != 1:
        raise StatementError("The CSV delimiter is one character (',', ';' or a tab).")
    if mapping["decimal_separator"] not in (".", ","):
        raise StatementError("The decimal separator is '.' or ','.")
    try:
        mapping["skip_rows"] = int(mapping["skip_rows"])
    except (TypeError, ValueError):
        raise StatementError("'Skip rows' is a whole number.")
    if not 0 <= mapping["skip_rows"] <= 100:
        raise StatementError("'Skip rows' is between 0 and 100.")
    if not mapping["date_column"]:
        raise StatementError("The CSV mapping needs the date column.")
    if not mapping["amount_column"] and not (mapping["debit_column"] and mapping["credit_column"]):
        raise StatementError("The CSV mapping needs an amount column, or a debit and a credit column.")
    try:
        dt.datetime.strptime(dt.date(2026, 12, 31).strftime(mapping["date_format"]), mapping["date_format"])  # noqa: DTZ007 (a date)
    except ValueError:
        raise StatementError(f"'{mapping['date_format']}' is not a date format (e.g. %d.%m.%Y).")
    return mapping


def _amount(value: str, separator: str, column: str, number: int) -> Decimal:
    """A cell as an amount, as banks write them: currency signs or codes, thousands
    separators, parentheses or a trailing minus for negatives (`parse_amount`, lenient)."""
    if not (value or "").strip():
        return Decimal(0)
    try:
        return parse_amount(value, decimal_separator=separator, lenient=True, label=f"amount in column '{column}'")
    except ValidationFailed as exc:
        raise StatementError(exc.message, line=number)


def parse(data: bytes, raw_mapping: dict) -> ParsedStatement:
    mapping = clean_mapping(raw_mapping)
    rows = list(csv.reader(io.StringIO(decode(data)), delimiter=mapping["delimiter"]))
    skip = mapping["skip_rows"]
    if len(rows) <= skip:
        raise StatementError(f"The file has no header row after skipping {skip} rows.")
    header = [name.strip() for name in rows[skip]]
    wanted = [mapping["date_column"]] + (
        [mapping["amount_column"]] if mapping["amount_column"] else [mapping["debit_column"], mapping["credit_column"]]
    ) + [mapping[key] for key in TEXT_COLUMNS if mapping[key]]
    missing = [name for name in wanted if name not in header]
    if missing:
        raise StatementError(f"The header row has no column {', '.join(repr(m) for m in missing)} "
                             f"(it has {', '.join(repr(h) for h in header)}).", line=skip + 1)
    index = {name: header.index(name) for name in wanted}
    lines: list[ParsedLine] = []
    for number, row in enumerate(rows[skip + 1:], skip + 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise StatementError(f"The row has {len(row)} columns; the header has {len(header)}.", line=number)

        def cell(key: str, row=row) -> str:
            return row[index[mapping[key]]].strip() if mapping[key] else ""

        try:
            day = dt.datetime.strptime(cell("date_column"), mapping["date_format"]).date()  # noqa: DTZ007 (a date)
        except ValueError:
            raise StatementError(f"'{cell('date_column')}' in column '{mapping['date_column']}' is not a date "
                                 f"in the format {mapping['date_format']}.", line=number)
        if mapping["amount_column"]:
            amount = _amount(cell("amount_column"), mapping["decimal_separator"], mapping["amount_column"], number)
        else:
            debit = _amount(cell("debit_column"), mapping["decimal_separator"], mapping["debit_column"], number)
            credit = _amount(cell("credit_column"), mapping["decimal_separator"], mapping["credit_column"], number)
            amount = abs(credit) - abs(debit)
        if not amount:
            raise StatementError("The row moves no amount.", line=number)
        lines.append(ParsedLine(
            date=day, amount=amount, counterparty_name=cell("counterparty_column")[:200],
            counterparty_iban=cell("counterparty_iban_column").replace(" ", "")[:34],
            reference=cell("reference_column")[:200], description=cell("description_column")[:500],
            transaction_id=cell("transaction_id_column")[:100],
        ))
    if not lines:
        raise StatementError("The file has no transaction rows.")
    return ParsedStatement(
        statement_id=f"CSV-{hashlib.sha256(data).hexdigest()[:12]}", currency="", opening_balance=None,
        closing_balance=None, date_from=min(line.date for line in lines), date_to=max(line.date for line in lines),
        lines=lines,
    )
