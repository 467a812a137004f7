"""Where a record of any app is shown: `record_url("core.party", 42)` -> "/parties/42/".

Each app registers its detail pages (in its navigation module), so the activity log and
task links lead to the record whatever department owns it.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from keel.core.records import parse_id

_routes: dict[str, tuple[str, bool]] = {}


def register_record_url(subject_type: str, url_name: str, *, with_id: bool = True) -> None:
    """`url_name` takes the record's id as `pk` (or no argument when with_id=False)."""
    _routes[subject_type] = (url_name, with_id)


def record_url(subject_type: str, subject_id) -> str | None:
    route = _routes.get(subject_type)
    if route is None:
        return None
    url_name, with_id = route
    try:
        if not with_id:
            return reverse(url_name)
        pk = parse_id(subject_id)
        return reverse(url_name, kwargs={"pk": pk}) if pk is not None else None
    except NoReverseMatch:
        return None
