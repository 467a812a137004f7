"""Schema building blocks every app's API uses."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Path, Schema
from pydantic import ConfigDict, field_validator

MAX_ID = 2**63 - 1

# A date in input: bounded, so day arithmetic (ranges, 'the day after') never overflows.
ApiDate = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(9999, 12, 30))]

# A record's id in a path: bounded, so no input overflows the database's integer.
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class _NulFree(Schema):
    # PostgreSQL cannot store NUL in text: refuse it here, naming the field, rather than
    # failing in the database.
    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("Text may not contain NUL characters.")
        return value


class InputSchema(_NulFree):
    """Base of request bodies: unknown fields are refused (a typo is not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class FilterSchema(_NulFree):
    """Base of list filters in the query string (other query parameters pass through)."""
