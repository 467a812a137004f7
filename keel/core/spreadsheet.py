"""Cells that a spreadsheet opens as text, never as a formula (CSV and XLSX injection).

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@` (and,
for some, a tab or carriage return before one) as a formula: a party named
`=HYPERLINK("http://evil", "Click")` would become a live link in the accountant's export.
Every export writes its text cells through `safe_cell`, titles and subtitles included, and
CSV through `csv_writer`; numbers stay numbers ("-12.50" is an amount, not a formula).
"""

from __future__ import annotations

import csv
import re
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def safe_cell(value: Any) -> Any:
    """A text cell that opens as the same text; anything that is not text as it is."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The text safe_cell was given: a file Keel exported imports back as it was typed."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value[1:]):
        return value[1:]
    return value


class _SafeWriter:
    def __init__(self, writer) -> None:
        self._writer = writer

    def writerow(self, row) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: TextIO, **options: Any) -> _SafeWriter:
    """csv.writer whose every text cell goes through safe_cell."""
    return _SafeWriter(csv.writer(out, **options))
