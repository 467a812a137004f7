"""Small helpers shared by the ledger's services."""

from __future__ import annotations

from keel.core.access import require_permission
from keel.core.models import Company


def require(actor, company: Company | int, permission: str, *, check_permission: bool) -> None:
    """Check the actor's permission, unless the system acts (handlers, set-up, imports)."""
    if check_permission:
        require_permission(actor, company, permission)
