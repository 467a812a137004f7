"""Set-based inserts of many rows at once, at each engine's best speed.

`insert_rows(table, columns, rows)` is for services that write many rows in one go (ledger
posting runs, imports). The rows hold database values: ids, not instances; decimals, dates and
datetimes as Python objects (on SQLite datetimes already adapted, as
`connection.ops.adapt_datetimefield_value` does).

- PostgreSQL: COPY FROM STDIN.
- SQLite: multi-row `INSERT ... VALUES (...), (...)`. Most of the cost of an SQLite insert
  from Python is binding each value, so a column whose value is the same in every row
  (the company, an empty label, a NULL party) is bound once per statement as a numbered
  parameter (`?1`), and only the varying values are bound per row. That is about twice
  as fast as `executemany` for journal lines, which are mostly empty columns.

It runs on the raw connection: call it inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from itertools import chain

from django.db import connection

# SQLite allows 32,766 parameters per statement (since 3.32); stay well under it.
_SQLITE_PARAMETERS = 30_000
_SQLITE_ROWS_PER_STATEMENT = 500


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    # Raw driver calls: the wrapper turns their errors into Django's (IntegrityError, ...).
    with connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            _copy(table, columns, rows)
        else:
            _sqlite_insert(table, columns, rows)


_column_types: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def _pg_column_types(cursor, table: str, columns: Sequence[str]) -> list[int]:
    """The type oids of the columns, for binary COPY (looked up once per process)."""
    key = (table, tuple(columns))
    if key not in _column_types:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0"
            " AND NOT attisdropped", [table],
        )
        oids = dict(cursor.fetchall())
        _column_types[key] = [oids[column] for column in columns]
    return _column_types[key]


def _copy(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    # Binary: the server skips parsing text, and psycopg's C dumpers write decimals and dates.
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor:
        types = _pg_column_types(cursor, table, columns)
        with cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)


def _sqlite_text(values: tuple) -> tuple | list:
    """Decimals and dates as the text Django's adapters would send, converted a column at a
    time (the sqlite3 adapter lookup per value costs more than the insert of a column)."""
    kind = type(values[0])
    if kind is not Decimal and kind is not dt.date:
        return values
    texts = list(map(str, values))  # str() of a Decimal or a date is what the adapters send
    if "None" in texts:  # a nullable column: no Decimal or date reads "None"
        return [None if value is None else text for value, text in zip(values, texts, strict=True)]
    return texts


def _sqlite_insert(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    by_column = list(zip(*rows, strict=True))
    constant: dict[int, int] = {}  # column index -> parameter number
    varying: list[int] = []
    for index, values in enumerate(by_column):
        first = values[0]
        # count() runs at C speed and short-cuts identical objects (None, "", one id); the
        # type check keeps 1 and 1.0, or 0 and False, apart (None and str equal no other type).
        if values.count(first) == len(values) and (
            first is None or type(first) is str or len(set(map(type, values))) == 1
        ):
            constant[index] = len(constant) + 1
        else:
            varying.append(index)
    if not varying:  # every row the same (rare): bind everything per row
        constant, varying = {}, list(range(len(columns)))
    constants = [_sqlite_text(by_column[index][:1])[0] for index in constant]
    per_row = len(varying)
    chunk = max(1, min(len(rows), _SQLITE_ROWS_PER_STATEMENT, (_SQLITE_PARAMETERS - len(constants)) // per_row))
    flat = list(chain.from_iterable(zip(*(_sqlite_text(by_column[index]) for index in varying), strict=True)))

    def statement(count: int) -> str:
        tuples = []
        number = len(constants)
        for _ in range(count):
            parts = []
            for index in range(len(columns)):
                if index in constant:
                    parts.append(f"?{constant[index]}")
                else:
                    number += 1
                    parts.append(f"?{number}")
            tuples.append(f"({', '.join(parts)})")
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(tuples)}"

    connection.ensure_connection()
    raw = connection.connection
    full = statement(chunk)
    step = chunk * per_row
    for start in range(0, len(flat), step):
        params = constants + flat[start:start + step]
        count = (len(params) - len(constants)) // per_row
        raw.execute(full if count == chunk else statement(count), params)
