"""Key-set (cursor) pagination for every API list.

A page is `{"items": [...], "next_cursor": "..." | null}`. The cursor is an opaque,
URL-safe encoding of the ordering key of the last row served; the next page asks for rows
strictly after it with one indexed WHERE, so a page costs the same at row 10 and row
10 million, and rows inserted meanwhile never shift pages (no duplicates, no gaps). The
ordering must end with a unique column (`-id`, or `name, id`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q
from ninja import Field, Schema

from keel.core.exceptions import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageQuery(Schema):
    """The query parameters of every list: `?limit=&cursor=`."""

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=f"Rows per page, at most {MAX_LIMIT}.")
    cursor: str | None = Field(None, max_length=1000, description="`next_cursor` of the previous page.")


class Page(Schema, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def _invalid_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid; start again without it.", code="cursor.invalid", field="cursor")


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()  # full precision: a key must round-trip exactly
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise _invalid_cursor()
    if not isinstance(values, list) or len(values) != size:
        raise _invalid_cursor()
    for value in values:
        if not (value is None or isinstance(value, str | int | bool)) or (isinstance(value, str) and len(value) > 300):
            raise _invalid_cursor()
        if isinstance(value, int) and not -(2**63) < value < 2**63:
            raise _invalid_cursor()
    return values


def _parse_ordering(model: type[models.Model], ordering: Sequence[str]) -> list[tuple[str, bool, models.Field]]:
    keys = []
    for item in ordering:
        descending = item.startswith("-")
        name = item.lstrip("-")
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        keys.append((field.attname if name != "pk" else "pk", descending, field))
    return keys


def _after(keys: list[tuple[str, bool, models.Field]], values: list[Any]) -> Q:
    """Rows strictly after `values` in the ordering: (a > x) or (a = x and b > y) or ..."""
    condition = Q()
    for index, (name, descending, _field) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[index]})
        for earlier in range(index):
            step &= Q(**{keys[earlier][0]: values[earlier]})
        condition |= step
    return condition


def paginate(queryset: models.QuerySet, page: PageQuery, *, ordering: Sequence[str] = ("-id",)) -> dict[str, Any]:
    """One page of `queryset` in `ordering` (which must end with a unique column)."""
    keys = _parse_ordering(queryset.model, ordering)
    queryset = queryset.order_by(*ordering)
    if page.cursor:
        raw = decode_cursor(page.cursor, len(keys))
        try:
            values = [field.to_python(value) for (_n, _d, field), value in zip(keys, raw, strict=True)]
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise _invalid_cursor()
        if any(v is None for v in values):
            raise _invalid_cursor()
        queryset = queryset.filter(_after(keys, values))
    rows = list(queryset[: page.limit + 1])
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([getattr(rows[-1], name) for name, _d, _f in keys])
    return {"items": rows, "next_cursor": next_cursor}


def paginate_items(items: Sequence[T], page: PageQuery, *, key: Callable[[T], str]) -> dict[str, Any]:
    """The same contract for an in-memory list (e.g. the KPI registry), ordered by a unique string key."""
    ordered = sorted(items, key=key)
    if page.cursor:
        [last] = decode_cursor(page.cursor, 1)
        if not isinstance(last, str):
            raise _invalid_cursor()
        ordered = [item for item in ordered if key(item) > last]
    rows = ordered[: page.limit]
    next_cursor = encode_cursor([key(rows[-1])]) if len(ordered) > page.limit else None
    return {"items": rows, "next_cursor": next_cursor}
