"""The activity log is a per-company hash chain: appends link, edits and deletions are found."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.core.activity import GENESIS_HASH, Entry, record, record_many, verify_chain
from keel.core.models import Activity, ActivityChainHead
from keel.core.tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


def _record(company, n=1, **data):
    return [
        record(company=company, actor=None, verb="core.thing_done", subject=company, data={"i": i, **data})
        for i in range(n)
    ]


def test_appends_link_each_activity_to_the_one_before(company):
    first, second = _record(company, 2)
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    head = ActivityChainHead.objects.get(company=company)
    assert (head.last_seq, head.last_hash) == (2, second.hash)


def test_each_company_has_its_own_chain(company, other_company):
    _record(company, 3)
    [theirs] = _record(other_company, 1)
    assert theirs.seq == 1 and theirs.prev_hash == GENESIS_HASH
    assert verify_chain(company).checked == 3
    assert verify_chain(other_company).checked == 1


def test_an_intact_chain_verifies(company):
    _record(company, 5, amount=Decimal("12.50"), on=dt.date(2026, 1, 31))
    report = verify_chain(company)
    assert report.ok and report.checked == 5


def test_decimals_and_dates_are_stored_as_exact_strings(company):
    [activity] = _record(company, 1, amount=Decimal("0.10"), on=dt.date(2026, 1, 31))
    activity = Activity.objects.get(pk=activity.pk)
    assert activity.data["amount"] == "0.10"
    assert activity.data["on"] == "2026-01-31"


def test_altered_content_is_named(company):
    rows = _record(company, 4)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_activity SET verb = %s WHERE id = %s", ["core.something_else", rows[2].pk]
        )
    report = verify_chain(company)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "altered" in report.problem


def test_a_deleted_activity_in_the_middle_is_named(company):
    rows = _record(company, 4)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_activity WHERE id = %s", [rows[1].pk])
    report = verify_chain(company)
    assert report.first_bad_seq == 2
    assert "missing" in report.problem


def test_deleting_the_newest_activities_is_found(company):
    rows = _record(company, 3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_activity WHERE id = %s", [rows[2].pk])
    report = verify_chain(company)
    assert not report.ok
    assert report.first_bad_seq == 3
    assert "deleted" in report.problem


def test_a_relinked_forgery_is_found(company):
    """Rewriting a row and its own hash still breaks the next row's link."""
    rows = _record(company, 3)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_activity SET hash = %s WHERE id = %s", ["f" * 64, rows[0].pk])
    report = verify_chain(company)
    assert report.first_bad_seq == 1


def test_activities_refuse_orm_updates_and_deletes(company):
    [activity] = _record(company, 1)
    activity.verb = "core.rewritten"
    with pytest.raises(RuntimeError):
        activity.save()
    with pytest.raises(RuntimeError):
        activity.delete()


def test_bulk_recording_continues_the_chain(company):
    _record(company, 2)
    rows = record_many(
        company=company, actor=None,
        entries=[Entry("core.bulk_done", subject=company, data={"n": n}) for n in range(50)],
    )
    assert [r.seq for r in rows] == list(range(3, 53))
    assert verify_chain(company).checked == 52


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.lists(
            st.dictionaries(
                st.text(min_size=1, max_size=8),
                st.one_of(st.integers(), st.text(max_size=20), st.booleans(), st.none(),
                          st.decimals(allow_nan=False, allow_infinity=False, places=2)),
                max_size=4,
            ),
            min_size=1, max_size=5,
        ),
        min_size=1, max_size=4,
    )
)
def test_any_sequence_of_recordings_verifies(batches):
    company = CompanyFactory()
    total = 0
    for batch in batches:
        record_many(company=company, actor=None, entries=[Entry("core.prop_done", subject=company, data=d) for d in batch])
        total += len(batch)
    report = verify_chain(company)
    assert report.ok, report.problem
    assert report.checked == total


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain():
    if connection.vendor != "postgresql":
        pytest.skip("row locks under concurrent writers are a PostgreSQL matter; SQLite serialises writers")
    company = CompanyFactory()
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for i in range(20):
                record(company=company, actor=None, verb="core.parallel_done", subject=company, data={"w": worker, "i": i})
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(Activity.objects.filter(company=company).order_by("seq").values_list("seq", flat=True)) == list(range(1, 81))
    assert verify_chain(company).ok
