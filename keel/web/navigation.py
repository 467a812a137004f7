"""The navigation registry: each app adds its menu entries with the permission they need."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from keel.core.access import has_permission


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    permission: str | None  # None: any member; "staff": Keel administrators
    order: int = 100


_items: list[NavItem] = []

# Sections in this order; departments' sections follow alphabetically, then LAST_SECTIONS.
SECTION_ORDER = ["Overview", "Records"]
LAST_SECTIONS = ["Company"]


def add(item: NavItem) -> None:
    if item not in _items:
        _items.append(item)


def sections_for(request) -> list[tuple[str, list[tuple[str, str, bool]]]]:
    user, company = request.user, getattr(request, "company", None)
    visible: list[tuple[NavItem, str]] = []
    for item in _items:
        if item.permission == "staff":
            if not (user.is_staff or user.is_superuser):
                continue
        elif item.permission and not has_permission(user, company, item.permission):
            continue
        try:
            visible.append((item, reverse(item.url_name)))
        except NoReverseMatch:
            continue
    # The current page is the entry with the longest URL the path starts with (so /tasks/mine/
    # marks "My tasks", not also "Company tasks" at /tasks/).
    matching = [url for _, url in visible if request.path == url or (url != "/" and request.path.startswith(url))]
    current = max(matching, key=len) if matching else None
    sections: dict[str, list[tuple[int, str, str, bool]]] = {}
    for item, url in visible:
        sections.setdefault(item.section, []).append((item.order, item.label, url, url == current))

    def rank(name: str) -> tuple[int, str]:
        if name in SECTION_ORDER:
            return (SECTION_ORDER.index(name), name)
        if name in LAST_SECTIONS:
            return (len(SECTION_ORDER) + 1 + LAST_SECTIONS.index(name), name)
        return (len(SECTION_ORDER), name)

    return [
        (name, [(label, url, active) for _, label, url, active in sorted(sections[name])])
        for name in sorted(sections, key=rank)
    ]
