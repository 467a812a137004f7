"""The database guard that keeps posted entries and lines immutable.

The triggers themselves live in migration 0002 (one set per engine). On SQLite they call
`keel_ledger_guard()`, a function this module registers on every Django connection: it
answers 1 (refuse) unless the process is inside `maintenance()`, which only the test
runner's `flush` uses to empty the tables. A connection that lacks the function (the
sqlite3 shell, another program) gets "no such function" and is refused as well. On
PostgreSQL the triggers have no switch: TRUNCATE (what flush uses there) does not fire them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db.backends.signals import connection_created

_state = threading.local()


def _guard_active() -> int:
    return 0 if getattr(_state, "maintenance", 0) else 1


@contextlib.contextmanager
def maintenance() -> Iterator[None]:
    """Let this thread delete posted rows on SQLite (emptying a test or scratch database)."""
    _state.maintenance = getattr(_state, "maintenance", 0) + 1
    try:
        yield
    finally:
        _state.maintenance -= 1


# Below this many lines the per-row trigger costs less than re-creating it.
BULK_LINES = 2000


@contextlib.contextmanager
def bulk_line_insert(connection, line_count: int) -> Iterator[bool]:
    """Insert the posting service's new lines on SQLite without the per-row insert trigger.

    On SQLite any row trigger makes an INSERT about three times slower. The posting service
    inserts lines only into the draft entries it has just created, inside its own IMMEDIATE
    transaction, so for a large batch it drops `ledger_line_insert_guard` and re-creates it
    from its stored definition before the transaction ends. SQLite DDL is transactional:
    no other connection ever sees the table without its guard. Must run inside the
    transaction that inserts the lines.
    """
    if connection.vendor != "sqlite" or line_count < BULK_LINES:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ledger_line_insert_guard'")
        row = cursor.fetchone()
        if row is None:
            yield False
            return
        cursor.execute("DROP TRIGGER ledger_line_insert_guard")
        try:
            yield True
        finally:
            cursor.execute(row[0])


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("keel_ledger_guard", 0, _guard_active, deterministic=False)


def install() -> None:
    connection_created.connect(_register, dispatch_uid="keel.ledger.guard")
    # Connections opened before the app was ready (rare: management start-up) get it too.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _register(None, conn)
