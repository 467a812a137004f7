"""Key-set pagination across pages, and pinned query counts on the main lists."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keel.api.tests.conftest import assert_error
from keel.core.models import Party, PartyRole
from keel.core.services.parties import create_party

pytestmark = pytest.mark.django_db


def _walk(api, path: str, limit: int) -> list[dict]:
    seen, cursor = [], None
    for _ in range(100):
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(url).json()
        assert len(body["items"]) <= limit
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination did not end")


def _bulk_parties(company, names):
    parties = Party.objects.bulk_create(
        [Party(company=company, name=name, normalized_name=name.lower()) for name in names]
    )
    PartyRole.objects.bulk_create([PartyRole(company=company, party=p, role="customer") for p in parties])


def test_pages_by_name_have_no_duplicates_or_gaps_even_with_equal_names(api, company):
    # Equal names force the tie-break on id.
    _bulk_parties(company, [f"Party {i % 7:02d}" for i in range(53)])
    seen = _walk(api, "/api/parties", limit=5)
    ids = [p["id"] for p in seen]
    assert len(ids) == len(set(ids)) == 53
    assert [(p["name"], p["id"]) for p in seen] == sorted((p["name"], p["id"]) for p in seen)


def test_pages_by_newest_first(api, company, owner):
    for i in range(12):
        create_party(actor=owner, company=company, name=f"Org {i}", allow_duplicate=True)
    seen = _walk(api, "/api/activities", limit=5)
    ids = [a["id"] for a in seen]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 12


def test_rows_added_between_pages_do_not_shift_the_next_page(api, company, owner):
    _bulk_parties(company, [f"M{i:02d}" for i in range(10)])
    first = api.get("/api/parties?limit=4").json()
    _bulk_parties(company, ["A-first"])  # sorts before everything already served
    second = api.get(f"/api/parties?limit=4&cursor={first['next_cursor']}").json()
    assert [p["name"] for p in second["items"]] == ["M04", "M05", "M06", "M07"]


def test_limits_are_bounded_and_bad_cursors_refused(api):
    assert_error(api.get("/api/parties?limit=0"), 400, "request.invalid")
    assert_error(api.get("/api/parties?limit=201"), 400, "request.invalid")
    assert api.get("/api/parties?limit=200").status_code == 200
    for cursor in ["garbage", "WzFd", "eyJhIjoxfQ", "WyJ4IiwieCJd", "W251bGwsMV0", "WyJhIiwgMWUzMDBd"]:
        assert_error(api.get(f"/api/parties?cursor={cursor}"), 400, "cursor.invalid")


def test_the_default_page_is_50(api, company):
    _bulk_parties(company, [f"P{i:03d}" for i in range(60)])
    body = api.get("/api/parties").json()
    assert len(body["items"]) == 50 and body["next_cursor"]


def _count_queries(api, url: str) -> int:
    api.get(url)  # warm up: the token's first use records last_used_at once
    with CaptureQueriesContext(connection) as context:
        response = api.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_party_list_costs_the_same_for_5_or_50_parties(api, company):
    _bulk_parties(company, [f"Q{i:03d}" for i in range(5)])
    small = _count_queries(api, "/api/parties")
    _bulk_parties(company, [f"R{i:03d}" for i in range(45)])
    large = _count_queries(api, "/api/parties")
    # token lookup, memberships, parties page, roles prefetch
    assert (small, large) == (4, 4)


def test_the_activity_list_costs_the_same_for_5_or_50_activities(api, company, owner):
    for i in range(5):
        create_party(actor=owner, company=company, name=f"Act {i}", allow_duplicate=True)
    small = _count_queries(api, "/api/activities")
    for i in range(45):
        create_party(actor=owner, company=company, name=f"More {i}", allow_duplicate=True)
    large = _count_queries(api, "/api/activities")
    # token lookup, memberships, activities page (actor and company joined)
    assert (small, large) == (3, 3)
