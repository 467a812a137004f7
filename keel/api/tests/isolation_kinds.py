"""How each API operation is checked by the isolation walk (test_isolation.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ById:
    """The outsider, in their own company, asks for acme's record by its ID: 404."""

    body: dict | None = None


@dataclass(frozen=True)
class ByHeader:
    """The outsider names acme in the header: 404, whatever the request."""

    body: dict | None = None
    query: str = ""


@dataclass(frozen=True)
class Spanning:
    """A list across the caller's companies: nothing of acme in it."""

    belongs_to_acme: Callable[[dict, object], bool]


@dataclass(frozen=True)
class NotCompanyScoped:
    reason: str
