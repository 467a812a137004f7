"""Exact money arithmetic inside the database, on SQLite as on PostgreSQL.

SQLite has no decimal type: a DecimalField is stored as REAL, and SUM() or `a + b` in SQL add
binary floats, so a total of many lines drifts by fractions of a cent. PostgreSQL's NUMERIC
is exact. `MoneySum` is the aggregate every app uses for money; on SQLite it calls
`keel_decimal_sum`, a Python aggregate that adds `Decimal`s, and `decimal_add_sql` names the
scalar `keel_decimal_add` for upserts that add to a stored amount. Both are registered on
every new SQLite connection. A stored REAL round-trips exactly to its decimal (shortest
repr) for amounts of up to 15 significant digits, e.g. 99,999,999,999.9999.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.backends.signals import connection_created
from django.dispatch import receiver


def _to_decimal(value) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value) if not isinstance(value, Decimal) else value


class _DecimalSum:
    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value) -> None:
        if value is not None:
            self.total = _to_decimal(value) if self.total is None else self.total + _to_decimal(value)

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


def _decimal_add(left, right) -> str | None:
    if left is None or right is None:
        return None
    return str(_to_decimal(left) + _to_decimal(right))


@receiver(connection_created, dispatch_uid="keel.core.db_money")
def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("keel_decimal_add", 2, _decimal_add, deterministic=True)
    raw.create_aggregate("keel_decimal_sum", 1, _DecimalSum)


class _ExactDecimal(models.DecimalField):
    """Output field that skips SQLite's float-based decimal converter; MoneySum converts."""

    def get_internal_type(self) -> str:
        return "TextField"


class MoneySum(models.Sum):
    """SUM of a money column, exact on every backend; returns a Decimal (or None)."""

    def __init__(self, expression, **extra):
        extra.setdefault("output_field", _ExactDecimal(max_digits=30, decimal_places=10))
        super().__init__(expression, **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="KEEL_DECIMAL_SUM", **extra_context)

    def convert_value(self, value, expression, connection):
        return None if value is None else _to_decimal(value)


def decimal_add_sql(connection, left: str, right: str) -> str:
    """SQL for left + right of money columns, exact on SQLite too."""
    if connection.vendor == "sqlite":
        return f"keel_decimal_add({left}, {right})"
    return f"{left} + {right}"
