"""Who may reopen a period and when: only owners and administrators (`books.reopen`), never a
period of a closed fiscal year; and the year-end close against a posting in flight
(PostgreSQL): the close waits for it and closes it with the year, or it waits for the close
and is refused."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections
from django.urls import reverse

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.access import has_permission
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.core.tests.factories import member
from keel.ledger.choices import PeriodStatus
from keel.ledger.models import Entry, FiscalYear, Line, Period
from keel.ledger.selectors import trial_balance
from keel.ledger.services import closing, posting, verify_balances
from keel.ledger.services.closing import close_fiscal_year
from keel.ledger.services.periods import close_period, get_period, reopen_period
from keel.ledger.tests.factories import post_sale, set_up_books

YEAR_START, YEAR_END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


@pytest.fixture
def administrator(books):
    return member(books, "administrator", username="admin@acme.test")


def _state(company, period: Period) -> tuple:
    """What a refused reopen must leave as it was."""
    period.refresh_from_db()
    return (period.status, FiscalYear.objects.get(pk=period.fiscal_year_id).status,
            Activity.objects.filter(company=company).count(), Entry.objects.filter(company=company).count(),
            Line.objects.filter(company=company).count())


def _closed_march(company, actor) -> Period:
    period = get_period(company=company, name="2026-03")
    close_period(actor=actor, period=period)
    return period


def _retained_earnings(company) -> Decimal:
    report = trial_balance(company, YEAR_START, YEAR_END)
    return next((row.closing for row in report.rows if row.code == "3100"), Decimal(0))


# -- 1. only owners and administrators reopen ------------------------------------------------


@pytest.mark.django_db
def test_the_reopen_permission_is_held_by_owners_and_administrators_not_by_accountants(books, owner, administrator,
                                                                                       accountant):
    assert has_permission(owner, books, "books.reopen") is True
    assert has_permission(administrator, books, "books.reopen") is True
    assert has_permission(accountant, books, "books.reopen") is False
    assert has_permission(accountant, books, "ledger.close") is True  # closes and locks, as before


@pytest.mark.django_db
def test_an_accountant_may_not_reopen_a_period(books, accountant):
    period = _closed_march(books, accountant)
    before = _state(books, period)
    with pytest.raises(PermissionDenied) as refused:
        reopen_period(actor=accountant, period=period, reason="Late supplier bill")
    assert refused.value.code == "permission.denied" and "books.reopen" in refused.value.message
    assert _state(books, period) == before
    assert before[0] == PeriodStatus.CLOSED
    assert not Activity.objects.filter(company=books, verb="ledger.period_reopened").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["owner", "administrator"])
def test_an_owner_or_administrator_reopens_with_a_reason(books, accountant, role):
    boss = member(books, role, username=f"{role}-2@acme.test")
    period = _closed_march(books, accountant)
    reopen_period(actor=boss, period=period, reason="Late supplier bill")
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    activity = Activity.objects.get(company=books, verb="ledger.period_reopened")
    assert (activity.actor, activity.data["reason"]) == (boss, "Late supplier bill")
    assert post_sale(books, boss).period == period


@pytest.mark.django_db
def test_the_page_shows_reopen_only_to_those_who_may_and_refuses_the_accountant(books, accountant, administrator,
                                                                                client_for):
    period = _closed_march(books, accountant)
    reopen_url, lock_url = reverse("ledger:period_reopen", args=[period.pk]), reverse("ledger:period_lock",
                                                                                     args=[period.pk])
    web = client_for(accountant)
    page = web.get(reverse("ledger:period_list")).content.decode()
    assert lock_url in page and reopen_url not in page
    before = _state(books, period)
    assert web.post(reopen_url, {"reason": "Late supplier bill"}).status_code == 403
    assert _state(books, period) == before

    page = client_for(administrator).get(reverse("ledger:period_list")).content.decode()
    assert reopen_url in page and lock_url in page
    client_for(administrator).post(reopen_url, {"reason": "Late supplier bill"})
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


@pytest.mark.django_db
def test_the_api_refuses_the_accountant_and_lets_the_administrator_reopen(books, accountant, administrator):
    period = _closed_march(books, accountant)
    before = _state(books, period)
    path = f"/api/ledger/periods/{period.pk}/reopen"
    body = assert_error(ApiClient(accountant, books).post(path, {"reason": "Late invoice"}), 403, "permission.denied")
    assert "books.reopen" in body["message"]
    assert _state(books, period) == before
    response = ApiClient(administrator, books).post(path, {"reason": "Late invoice"})
    assert response.status_code == 200 and response.json()["status"] == "open"


@pytest.mark.django_db
def test_the_command_refuses_the_accountant(books, accountant, administrator):
    period = _closed_march(books, accountant)
    before = _state(books, period)
    args = ("ledger", "reopen-period", "--company", "acme", "--period", "2026-03", "--reason", "Late bill")
    with pytest.raises(CommandError, match=r"books\.reopen.*\[permission\.denied\]"):
        call_command(*args, "--user", accountant.username)
    assert _state(books, period) == before
    call_command(*args, "--user", administrator.username)
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


# -- 2. a closed fiscal year stays closed ---------------------------------------------------


def _closed_2025(company) -> Period:
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    close_fiscal_year(actor=None, company=company, fiscal_year=2025, check_permission=False)
    return get_period(company=company, name="2025-06")


@pytest.mark.django_db
def test_a_period_of_a_closed_year_is_not_reopened(books, owner):
    june = _closed_2025(books)
    before = _state(books, june)
    assert before[:2] == (PeriodStatus.CLOSED, PeriodStatus.CLOSED)
    with pytest.raises(ValidationFailed) as refused:
        reopen_period(actor=owner, period=june, reason="Forgotten invoice")
    assert refused.value.code == "period.year_closed" and list(refused.value.fields) == ["period"]
    assert refused.value.message == ("Fiscal year FY2025 is closed: its periods cannot be reopened. "
                                     "Reopen the fiscal year first (owners and administrators, with a reason).")
    assert _state(books, june) == before
    with pytest.raises(ValidationFailed) as posting_refused:  # so nothing lands outside the closing entry
        post_sale(books, amount="50.00", day=dt.date(2025, 6, 15))
    assert posting_refused.value.code == "period.closed"
    assert _retained_earnings(books) == Decimal("-1000.00")


@pytest.mark.django_db
def test_a_closed_years_periods_show_no_reopen_and_the_page_and_api_refuse(books, administrator, client_for):
    june = _closed_2025(books)
    reopen_url = reverse("ledger:period_reopen", args=[june.pk])
    web = client_for(administrator)
    page = web.get(reverse("ledger:period_list")).content.decode()
    assert reopen_url not in page and reverse("ledger:period_lock", args=[june.pk]) in page
    before = _state(books, june)
    response = web.post(reopen_url, {"reason": "Forgotten invoice"}, follow=True)
    assert b"Fiscal year FY2025 is closed" in response.content
    assert _state(books, june) == before
    api = ApiClient(administrator, books)
    assert_error(api.post(f"/api/ledger/periods/{june.pk}/reopen", {"reason": "Forgotten invoice"}), 400,
                 "period.year_closed")
    assert _state(books, june) == before


@pytest.mark.django_db
def test_a_period_of_an_open_year_still_reopens_when_another_year_is_closed(books, owner):
    _closed_2025(books)
    period = _closed_march(books, owner)
    reopen_period(actor=owner, period=period, reason="Late supplier bill")
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN


# -- 3. year-end close against a posting in flight (PostgreSQL) -----------------------------


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _blocked_by(waiter: dict, holder: dict, *, thread: threading.Thread, timeout: float = 10.0) -> bool:
    """Whether the waiter's backend comes to wait for a lock the holder's backend holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        if "pid" in waiter and "pid" in holder:
            with connection.cursor() as cursor:
                cursor.execute("SELECT %s = ANY(pg_blocking_pids(%s))", [holder["pid"], waiter["pid"]])
                if cursor.fetchone()[0]:
                    return True
        time.sleep(0.02)
    return False


def _in_thread(name: str, work, seen: dict) -> threading.Thread:
    def run():
        try:
            seen["pid"] = _backend_pid()
            seen["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - asserted by the test
            seen["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def _hold(monkeypatch, module, name: str, thread_name: str, *, after: bool) -> tuple[threading.Event, threading.Event]:
    """Make `thread_name` stop inside its transaction at `module.name` until released."""
    inside, release = threading.Event(), threading.Event()
    real = getattr(module, name)

    def held(*args, **kwargs):
        if not after:
            _pause(thread_name, inside, release)
        result = real(*args, **kwargs)
        if after:
            _pause(thread_name, inside, release)
        return result

    monkeypatch.setattr(module, name, held)
    return inside, release


def _pause(thread_name: str, inside: threading.Event, release: threading.Event) -> None:
    if threading.current_thread().name == thread_name:
        inside.set()
        assert release.wait(timeout=30), "never released"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_close_waits_for_a_posting_in_flight_and_closes_it_with_the_year(company, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    # The posting stops right after it took its period FOR SHARE, inside its transaction.
    inside, release = _hold(monkeypatch, posting, "_lock_open_periods", "poster", after=True)
    poster, closer = {}, {}
    poster_thread = _in_thread("poster", lambda: post_sale(company, amount="250.00", day=dt.date(2025, 6, 15)), poster)
    try:
        assert inside.wait(timeout=30)
        closer_thread = _in_thread("closer", lambda: close_fiscal_year(
            actor=None, company=company, fiscal_year=2025, check_permission=False), closer)
        assert _blocked_by(closer, poster, thread=closer_thread), "the close did not wait for the posting"
        assert "result" not in closer and "error" not in closer
    finally:
        release.set()
        poster_thread.join(timeout=30)
    closer_thread.join(timeout=30)

    assert "error" not in poster and "error" not in closer, (poster.get("error"), closer.get("error"))
    assert poster["result"].period.name == "2025-06"
    result = closer["result"]
    assert result.result == Decimal("1250.00") and result.periods_closed == 12
    assert sorted((line.account.code, line.debit, line.credit)
                  for line in result.entry.lines.select_related("account")) == [
        ("3100", Decimal(0), Decimal("1250.00")), ("4000", Decimal("1250.00"), Decimal(0))]
    assert _retained_earnings(company) == Decimal("-1250.00")
    assert verify_balances(company).ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_posting_during_the_close_waits_and_is_refused(company, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real parallel writers")
    set_up_books(company)
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    # The close stops just before it adds up the year, inside its transaction.
    inside, release = _hold(monkeypatch, closing, "movements", "closer", after=False)
    poster, closer = {}, {}
    closer_thread = _in_thread("closer", lambda: close_fiscal_year(
        actor=None, company=company, fiscal_year=2025, check_permission=False), closer)
    try:
        assert inside.wait(timeout=30)
        poster_thread = _in_thread("poster", lambda: post_sale(company, amount="250.00", day=dt.date(2025, 6, 15)),
                                   poster)
        assert _blocked_by(poster, closer, thread=poster_thread), "the posting did not wait for the close"
    finally:
        release.set()
        closer_thread.join(timeout=30)
    poster_thread.join(timeout=30)

    assert "error" not in closer, closer.get("error")
    assert isinstance(poster.get("error"), ValidationFailed) and poster["error"].code == "period.closed"
    assert closer["result"].result == Decimal("1000.00")
    assert Entry.objects.filter(company=company).count() == 2  # the sale and the closing entry
    assert not Line.objects.filter(company=company, date=dt.date(2025, 6, 15)).exists()
    assert _retained_earnings(company) == Decimal("-1000.00")
    assert verify_balances(company).ok
