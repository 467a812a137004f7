"""Closing safely: the year closes from its last day, by owners and administrators, after a
preview; reopening it is its own verb, with a reason; confirmation pages ask first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Activity
from keel.core.tests.factories import member
from keel.ledger.choices import EntryStatus, PeriodStatus
from keel.ledger.models import Entry, FiscalYear, Line, Period
from keel.ledger.services.closing import (
    close_fiscal_year,
    preview_fiscal_year_close,
    reopen_fiscal_year,
)
from keel.ledger.services.periods import close_period, ensure_fiscal_year, lock_period
from keel.ledger.services.posting import create_draft_entry, post_entry
from keel.ledger.tests.factories import lines, post_sale, set_up_books
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal


def _a_year(company):
    post_sale(company, amount="1000.00", day=dt.date(2025, 2, 10))
    post_entry(actor=None, company=company, journal="PUR", date=dt.date(2025, 5, 5), check_permission=False,
               lines=lines(("6100", "300.00", "0"), ("1400", "0", "300.00")))


def _state(company):
    return (sorted(FiscalYear.objects.filter(company=company).values_list("year", "status")),
            sorted(Period.objects.filter(company=company).values_list("start", "status")),
            sorted(Entry.objects.filter(company=company).values_list("pk", "status")),
            Line.objects.filter(company=company).count(),
            Activity.objects.filter(company=company).count())


def _closed_2025(company, owner):
    _a_year(company)
    return close_fiscal_year(actor=owner, company=company, fiscal_year=2025)


# -- close ---------------------------------------------------------------------------------


def test_a_year_is_not_closed_before_its_last_day(books, owner):
    next_year = timezone.localdate().year + 1  # certainly not over, whatever day the tests run
    ensure_fiscal_year(company=books, fiscal_year=next_year)
    before = _state(books)
    with pytest.raises(ValidationFailed) as refused:
        close_fiscal_year(actor=owner, company=books, fiscal_year=next_year)
    assert refused.value.code == "fiscal_year.not_ended"
    assert _state(books) == before


def test_the_preview_shows_the_closing_entry_and_writes_nothing(books, owner):
    _a_year(books)
    before = _state(books)
    preview = preview_fiscal_year_close(company=books, fiscal_year=2025)
    assert preview.can_close and preview.result == D("700.00") and preview.journal.code == "OPN"
    assert [(line.account.code, line.debit, line.credit) for line in preview.lines] == [
        ("4000", D("1000.00"), D(0)), ("6100", D(0), D("300.00")), ("3100", D(0), D("700.00"))]
    assert _state(books) == before
    closing = close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry
    assert sorted((line.account.code, line.debit, line.credit) for line in closing.lines.select_related("account")) \
        == sorted((line.account.code, line.debit, line.credit) for line in preview.lines)


def test_the_preview_lists_every_reason_the_close_is_refused(books):
    next_year = timezone.localdate().year + 1
    ensure_fiscal_year(company=books, fiscal_year=next_year)
    create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(next_year, 3, 1),
                       lines=lines(("6100", "5.00", "0"), ("1400", "0", "5.00")), check_permission=False)
    preview = preview_fiscal_year_close(company=books, fiscal_year=next_year)
    assert not preview.can_close
    assert [refusal.code for refusal in preview.refusals] == ["fiscal_year.not_ended", "fiscal_year.has_drafts"]


# -- reopen --------------------------------------------------------------------------------


def test_reopening_needs_an_owner_or_administrator_and_a_reason(books, owner, accountant):
    _closed_2025(books, owner)
    before = _state(books)
    for someone in (accountant, member(books, "auditor")):
        with pytest.raises(PermissionDenied):
            reopen_fiscal_year(actor=someone, company=books, fiscal_year=2025, reason="Because")
    with pytest.raises(ValidationFailed) as refused:
        reopen_fiscal_year(actor=owner, company=books, fiscal_year=2025, reason="   ")
    assert refused.value.code == "fiscal_year.reason_required"
    assert _state(books) == before
    administrator = member(books, "administrator")
    result = reopen_fiscal_year(actor=administrator, company=books, fiscal_year=2025, reason="Audit adjustment")
    assert result.fiscal_year.status == PeriodStatus.OPEN and result.reversal.status == EntryStatus.POSTED


def test_only_a_closed_year_is_reopened(books, owner):
    before = _state(books)
    with pytest.raises(ValidationFailed) as refused:
        reopen_fiscal_year(actor=owner, company=books, fiscal_year=2026, reason="Why not")
    assert refused.value.code == "fiscal_year.not_closed"
    assert _state(books) == before


def test_a_year_whose_last_period_is_locked_is_not_reopened(books, owner):
    _closed_2025(books, owner)
    lock_period(actor=owner, period=Period.objects.get(company=books, start=dt.date(2025, 12, 1)))
    before = _state(books)
    with pytest.raises(ValidationFailed) as refused:
        reopen_fiscal_year(actor=owner, company=books, fiscal_year=2025, reason="Too late")
    assert refused.value.code == "fiscal_year.last_period_locked"
    assert _state(books) == before


def test_a_year_closed_without_income_or_expense_reopens_without_a_reversal(books, owner):
    assert close_fiscal_year(actor=owner, company=books, fiscal_year=2025).entry is None
    result = reopen_fiscal_year(actor=owner, company=books, fiscal_year=2025, reason="Opened by mistake")
    assert result.reversal is None and result.fiscal_year.status == PeriodStatus.OPEN


def test_reopening_through_the_api_and_the_cli(books, owner, accountant):
    _closed_2025(books, owner)
    assert_error(ApiClient(accountant, books).post("/api/ledger/fiscal-years/2025/reopen", {"reason": "x"}), 403)
    assert_error(ApiClient(owner, books).post("/api/ledger/fiscal-years/2025/reopen", {"reason": ""}), 400)
    body = ApiClient(owner, books).post("/api/ledger/fiscal-years/2025/reopen", {"reason": "Missing invoice"}).json()
    assert body["fiscal_year"]["status"] == "open" and body["reversal"]["purpose"] == "close"
    assert body["reason"] == "Missing invoice"

    preview = ApiClient(owner, books).get("/api/ledger/fiscal-years/2025/close-preview").json()
    assert preview["can_close"] and preview["result"] == "700.00" and len(preview["lines"]) == 3
    assert_error(ApiClient(accountant, books).get("/api/ledger/fiscal-years/2025/close-preview"), 403)

    call_command("ledger", "close-year", "--company", books.code, "--year", "2025")
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.CLOSED
    with pytest.raises(CommandError, match="permission.denied"):
        call_command("ledger", "reopen-year", "--company", books.code, "--year", "2025", "--reason", "x",
                     "--user", accountant.username)
    call_command("ledger", "reopen-year", "--company", books.code, "--year", "2025", "--reason", "Auditor's note")
    assert FiscalYear.objects.get(company=books, year=2025).status == PeriodStatus.OPEN
    assert Activity.objects.filter(company=books, verb="ledger.fiscal_year_reopened").count() == 2


def test_the_cli_previews_the_close_without_writing(books, owner, capsys):
    _a_year(books)
    before = _state(books)
    call_command("ledger", "close-year", "--company", books.code, "--year", "2025", "--preview")
    out = capsys.readouterr().out
    assert "3100" in out and "700.00" in out and "Nothing was written" in out
    assert _state(books) == before


# -- pages: the confirmation steps ---------------------------------------------------------


def _year_pk(company, owner, year=2025):
    set_up_books(company)
    return {"pk": FiscalYear.objects.get(company=company, year=year).pk}


def _closed_year_pk(company, owner):
    set_up_books(company)
    close_fiscal_year(actor=owner, company=company, fiscal_year=2025)
    return {"pk": FiscalYear.objects.get(company=company, year=2025).pk}


def _open_period_pk(company, owner):
    set_up_books(company)
    return {"pk": Period.objects.get(company=company, start=dt.date(2026, 3, 1)).pk}


def _closed_period_pk(company, owner):
    kwargs = _open_period_pk(company, owner)
    close_period(actor=owner, period=Period.objects.get(pk=kwargs["pk"]))
    return kwargs


def _draft_pk(company, owner):
    set_up_books(company)
    return {"pk": create_draft_entry(actor=None, company=company, journal="GEN", date=dt.date(2026, 3, 10),
                                     lines=lines(("6100", "5.00", "0"), ("1400", "0", "5.00")),
                                     check_permission=False).pk}


def _posted_pk(company, owner):
    set_up_books(company)
    return {"pk": post_sale(company).pk}


(test_confirmation_page_renders, test_confirmation_page_needs_permission, test_confirmation_page_of_other_company_is_404,
 test_confirmation_page_needs_login) = page_tests([
    Page("ledger:fiscal_year_close", make=_year_pk, denied_role="accountant"),
    Page("ledger:fiscal_year_reopen", make=_closed_year_pk, denied_role="accountant"),
    Page("ledger:period_close", make=_open_period_pk, denied_role="auditor"),
    Page("ledger:period_lock", make=_closed_period_pk, denied_role="auditor"),
    Page("ledger:entry_delete", make=_draft_pk, denied_role="auditor"),
    Page("ledger:entry_reverse", make=_posted_pk, denied_role="auditor"),
])


def test_the_close_page_shows_the_entry_it_will_post_and_closes_only_when_confirmed(books, owner, client_for):
    _a_year(books)
    year = FiscalYear.objects.get(company=books, year=2025)
    web = client_for(owner)
    page = web.get(f"/ledger/fiscal-years/{year.pk}/close/").content.decode()
    assert "Result of FY2025" in page and "700.00" in page and "1,000.00" in page
    assert "Post the closing entry and close FY2025" in page
    year.refresh_from_db()
    assert year.status == PeriodStatus.OPEN  # looking is not closing
    response = web.post(f"/ledger/fiscal-years/{year.pk}/close/", follow=True)
    assert b"FY2025 is closed: result 700.00 EUR moved to retained earnings" in response.content
    year.refresh_from_db()
    assert year.status == PeriodStatus.CLOSED
    listing = web.get("/ledger/periods/").content.decode()
    assert f"/ledger/fiscal-years/{year.pk}/reopen/" in listing


def test_the_close_page_of_a_year_not_over_says_why_and_offers_no_button(books, owner, client_for):
    next_year = ensure_fiscal_year(company=books, fiscal_year=timezone.localdate().year + 1)
    web = client_for(owner)
    page = web.get(f"/ledger/fiscal-years/{next_year.pk}/close/").content.decode()
    assert "it can be closed from its last day on" in page and "Post the closing entry" not in page
    response = web.post(f"/ledger/fiscal-years/{next_year.pk}/close/", follow=True)
    assert b"it can be closed from its last day on" in response.content
    next_year.refresh_from_db()
    assert next_year.status == PeriodStatus.OPEN


def test_an_accountant_sees_no_close_year_button_and_cannot_post_it(books, accountant, client_for):
    year = FiscalYear.objects.get(company=books, year=2025)
    web = client_for(accountant)
    assert f"/ledger/fiscal-years/{year.pk}/close/" not in web.get("/ledger/periods/").content.decode()
    assert web.post(f"/ledger/fiscal-years/{year.pk}/close/").status_code == 403
    year.refresh_from_db()
    assert year.status == PeriodStatus.OPEN


def test_the_reopen_page_names_the_closing_entry_and_needs_a_reason(books, owner, client_for):
    closing = _closed_2025(books, owner).entry
    year = FiscalYear.objects.get(company=books, year=2025)
    web = client_for(owner)
    page = web.get(f"/ledger/fiscal-years/{year.pk}/reopen/").content.decode()
    assert closing.number in page and "Reverse the closing entry and reopen FY2025" in page
    response = web.post(f"/ledger/fiscal-years/{year.pk}/reopen/", {"reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    year.refresh_from_db()
    assert year.status == PeriodStatus.CLOSED
    response = web.post(f"/ledger/fiscal-years/{year.pk}/reopen/", {"reason": "Late bill"}, follow=True)
    reversal = Entry.objects.get(reversal_of=closing)
    assert f"its closing entry was reversed by {reversal.number}".encode() in response.content
    year.refresh_from_db()
    assert year.status == PeriodStatus.OPEN


def test_closing_and_locking_a_period_ask_first(books, owner, client_for):
    period = Period.objects.get(company=books, start=dt.date(2026, 3, 1))
    web = client_for(owner)
    assert "refuse postings" in web.get(f"/ledger/periods/{period.pk}/close/").content.decode()
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    web.post(f"/ledger/periods/{period.pk}/close/")
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    assert "is final" in web.get(f"/ledger/periods/{period.pk}/lock/").content.decode()
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    web.post(f"/ledger/periods/{period.pk}/lock/")
    period.refresh_from_db()
    assert period.status == PeriodStatus.LOCKED
    page = web.get(f"/ledger/periods/{period.pk}/close/").content.decode()
    assert "Period 2026-03 is locked." in page and "Close 2026-03</button>" not in page


def test_deleting_a_draft_and_reversing_an_entry_ask_first(books, owner, client_for):
    web = client_for(owner)
    draft = create_draft_entry(actor=None, company=books, journal="GEN", date=dt.date(2026, 3, 10),
                               lines=lines(("6100", "5.00", "0"), ("1400", "0", "5.00")), check_permission=False)
    assert "Delete the draft" in web.get(f"/ledger/entries/{draft.pk}/delete/").content.decode()
    assert Entry.objects.filter(pk=draft.pk).exists()
    assert f"/ledger/entries/{draft.pk}/delete/" in web.get(f"/ledger/entries/{draft.pk}/").content.decode()
    web.post(f"/ledger/entries/{draft.pk}/delete/")
    assert not Entry.objects.filter(pk=draft.pk).exists()

    entry = post_sale(books)
    page = web.get(f"/ledger/entries/{entry.pk}/reverse/").content.decode()
    assert "Post the reversal" in page and "100.00 EUR" in page
    entry.refresh_from_db()
    assert entry.status == EntryStatus.POSTED
    web.post(f"/ledger/entries/{entry.pk}/reverse/", {"date": "2026-03-20"})
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REVERSED


def test_the_close_page_of_a_closed_year_says_so_and_shows_no_entry(books, owner, client_for):
    _closed_2025(books, owner)
    year = FiscalYear.objects.get(company=books, year=2025)
    page = client_for(owner).get(f"/ledger/fiscal-years/{year.pk}/close/").content.decode()
    assert "Fiscal year 2025 is already closed." in page
    assert "The closing entry</h2>" not in page and "Post the closing entry" not in page
