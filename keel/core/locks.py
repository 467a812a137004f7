"""Serialising a check-then-write that no row lock covers.

"Is there already a party named Hooli?" reads rows that do not exist yet, so no row lock can
stop two requests from both answering no and both creating one. `hold_company_lock` makes
such writers of one company take turns for the rest of their transaction: on PostgreSQL a
transaction-level advisory lock keyed by the company and the lock's name; on SQLite the
write lock every transaction already takes at its start (`BEGIN IMMEDIATE`, see settings).
"""

from __future__ import annotations

import zlib

from django.db import connection


def hold_company_lock(company_id: int, name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock `name` of one company.

    Call inside `transaction.atomic()`, before the check it protects."""
    if not connection.in_atomic_block:
        raise RuntimeError("hold_company_lock needs a transaction to hold the lock in")
    if connection.vendor == "postgresql":
        # Two int4 keys: the company, and the name's CRC32 folded into int4's range.
        key = zlib.crc32(name.encode()) - 2 ** 31
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(company_id), key])
