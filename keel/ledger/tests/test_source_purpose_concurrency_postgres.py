"""Two writers posting the same source and purpose at once (PostgreSQL): one entry, one refusal."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction

from keel.ledger.exceptions import PostingRefused
from keel.ledger.models import Entry
from keel.ledger.services import verify_balances
from keel.ledger.services.posting import post_entry
from keel.ledger.tests.factories import sale, set_up_books

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post(company, amount="100.00"):
    return post_entry(actor=None, company=company, journal="SAL", date=dt.date(2026, 3, 1), lines=sale(amount, company=company),
                      source_type="test.order", source_id="17", purpose="issue", check_permission=False)


def _run(*targets):
    errors: list[BaseException] = []

    def guarded(target):
        def run():
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                connections.close_all()
        return run

    threads = [threading.Thread(target=guarded(target)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent writers")


def test_the_writer_that_checked_before_the_other_committed_is_refused_by_the_index(company):
    """B checks while A's entry is uncommitted (the check cannot see it), then waits for A at
    the numbering lock and meets A's entry at the unique index: the refusal is the documented one."""
    _needs_postgres()
    set_up_books(company)
    a_posted, b_started = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def writer_a():
        with transaction.atomic():
            outcomes["a"] = _post(company)
            a_posted.set()
            b_started.wait(10)
            time.sleep(0.5)  # B is past its check and waits on our locks

    def writer_b():
        a_posted.wait(10)
        b_started.set()
        try:
            outcomes["b"] = _post(company, amount="50.00")
        except PostingRefused as exc:
            outcomes["b"] = exc

    assert _run(writer_a, writer_b) == []
    refusal = outcomes["b"]
    assert isinstance(refusal, PostingRefused) and refusal.code == "entry.source_already_posted"
    assert refusal.extra["existing_entry_id"] == outcomes["a"].pk
    entries = Entry.objects.for_company(company).filter(source_type="test.order")
    assert list(entries.values_list("number", flat=True)) == ["SAL/2026/000001"]  # no number lost
    assert verify_balances(company).ok


def test_two_writers_at_once_post_one_entry(company):
    _needs_postgres()
    set_up_books(company)
    barrier = threading.Barrier(2)
    refusals: list[PostingRefused] = []

    def writer():
        barrier.wait(10)
        try:
            _post(company)
        except PostingRefused as exc:
            refusals.append(exc)

    assert _run(writer, writer) == []
    assert [exc.code for exc in refusals] == ["entry.source_already_posted"]
    assert Entry.objects.for_company(company).filter(source_type="test.order", purpose="issue").count() == 1
    assert verify_balances(company).ok
