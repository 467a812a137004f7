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

import contextlib
import datetime as dt
import functools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
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
    connection.ensure_connection()
    raw = connection.connection
    for sql, params in _sqlite_statements(table, columns, rows):
        raw.execute(sql, params)


def _sqlite_statements(table: str, columns: Sequence[str], rows: list[tuple]) -> Iterator[tuple[str, list]]:
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
    layout = (table, tuple(columns), tuple(constant.items()))
    step = chunk * per_row
    for start in range(0, len(flat), step):
        params = constants + flat[start:start + step]
        yield _sqlite_sql(layout, (len(params) - len(constants)) // per_row), params


@functools.lru_cache(maxsize=64)
def _sqlite_sql(layout: tuple, count: int) -> str:
    """`INSERT ... VALUES` for `count` rows; constant columns name their shared parameter."""
    table, columns, constant_items = layout
    constant = dict(constant_items)
    tuples = []
    number = len(constant)
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


@contextlib.contextmanager
def background_inserts() -> Iterator[Callable[[str, Sequence[str], list[tuple]], None]]:
    """Yield an `insert(table, columns, rows)` whose statements run while the caller goes on.

    sqlite3 lets go of the GIL while SQLite runs a statement, so on SQLite the statements
    run in order on a helper thread, on the caller's own connection and transaction, while
    the caller prepares its next rows (the raw insert of a journal line is about 8 us, the
    Python that prepares it about as much). Leaving the block waits for every statement and
    raises the first error (as Django's, e.g. IntegrityError); the caller must not use the
    connection inside the block. On PostgreSQL, whose server works in its own process as
    COPY data arrives, `insert` is `insert_rows`.
    """
    if connection.vendor != "sqlite":
        yield insert_rows
        return
    connection.ensure_connection()
    worker = _StatementWorker(connection.connection)

    def insert(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
        if rows:
            with connection.wrap_database_errors:
                for sql, params in _sqlite_statements(table, columns, rows):
                    worker.put(sql, params)

    try:
        yield insert
    except BaseException:
        worker.stop()
        raise
    with connection.wrap_database_errors:
        worker.finish()


class _StatementWorker:
    """Runs statements on one helper thread, in the order given; stops at the first error."""

    def __init__(self, raw) -> None:
        self.raw = raw
        self.queue: queue.Queue = queue.Queue(maxsize=8)  # statements waiting: bounds the memory held
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="keel-db-bulk", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.raw.execute(*item)
                except BaseException as exc:  # handed to the caller's thread
                    self.error = exc

    def put(self, sql: str, params: list) -> None:
        self._raise()
        self.queue.put((sql, params))

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join()

    def finish(self) -> None:
        self.stop()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error
