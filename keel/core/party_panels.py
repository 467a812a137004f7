"""Party page panels: what other departments show on a party's page.

The party page belongs to core, and core imports no department. A department registers a
panel (`register_party_panel`) with its template, a context function and the permission a
user needs to see it; the page renders, in order, the panels the user may see. The inbox
contributes the party's open tasks, the ledger its balance, open items and aging.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from keel.core.access import has_permission


@dataclass(frozen=True)
class PartyPanel:
    """A section of the party page: `context(request=..., party=...)` gives its template's
    context (as `panel`), asked only for users whose role allows `permission`."""

    name: str
    template: str
    context: Callable[..., dict[str, Any]]
    permission: str
    order: int = 100


@dataclass(frozen=True)
class RenderedPanel:
    name: str
    template: str
    context: dict[str, Any]


_panels: dict[str, PartyPanel] = {}


def register_party_panel(name: str, *, template: str, context: Callable[..., dict[str, Any]], permission: str,
                         order: int = 100) -> None:
    """Add (or replace, by name) a panel of the party page."""
    if not permission:
        raise ValueError("A party panel names the permission that shows it.")
    _panels[name] = PartyPanel(name, template, context, permission, order)


def registered_panels() -> list[PartyPanel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def panels_for(request, party) -> list[RenderedPanel]:
    """The panels `request.user` may see on `party`'s page, with their context."""
    return [RenderedPanel(panel.name, panel.template, panel.context(request=request, party=party))
            for panel in registered_panels()
            if has_permission(request.user, request.company, panel.permission)]
