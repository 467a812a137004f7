"""Bank statement parsers (CAMT.053, MT940, OFX, CSV) and the matching of statement lines.

Each parser turns the bytes of a file into its `ParsedStatement`s (a file may hold several)
or raises `StatementError` naming the problem (and the line of the file where it can).
Parsers write nothing: the import service (keel.ledger.services.bank) checks and stores
what they return.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

FORMATS = {"camt053": "CAMT.053 (XML)", "mt940": "MT940", "ofx": "OFX", "csv": "CSV"}


class StatementError(Exception):
    """The file cannot be read as a statement of its format."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(f"Line {line}: {message}" if line else message)
        self.message = str(self)


@dataclass
class ParsedLine:
    date: dt.date
    amount: Decimal  # signed: positive is money in
    currency: str = ""
    counterparty_name: str = ""
    counterparty_iban: str = ""
    reference: str = ""
    description: str = ""
    transaction_id: str = ""


@dataclass
class ParsedStatement:
    statement_id: str
    currency: str
    opening_balance: Decimal | None
    closing_balance: Decimal | None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    # The account as the file names it: an IBAN (CAMT <Acct><Id><IBAN>, MT940 :25:, OFX
    # <ACCTID>), possibly with a currency after it, or another number ('BLZ/account').
    account_identification: str = ""
    lines: list[ParsedLine] = field(default_factory=list)
    line: int | None = None  # where the statement starts in the file, for messages


def parse_statements(file_format: str, data: bytes, *, mapping: dict | None = None) -> list[ParsedStatement]:
    """Parse `data` as `file_format` (one of FORMATS): every statement the file holds, in its
    order (CAMT.053, MT940 and OFX may hold several; a CSV is one)."""
    from keel.ledger.bank import camt053, csv, mt940, ofx

    if file_format == "camt053":
        return camt053.parse(data)
    if file_format == "mt940":
        return mt940.parse(data)
    if file_format == "ofx":
        return ofx.parse(data)
    if file_format == "csv":
        return [csv.parse(data, mapping or {})]
    raise StatementError(f"'{file_format}' is not a statement format; use one of {', '.join(FORMATS)}.")


def decode(data: bytes) -> str:
    """Text of a file: UTF-8 (with or without BOM), else Latin-1 as many banks still send."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")
