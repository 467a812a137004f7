"""Books pages: chart, groups, cost centres, journals, periods, entries and the trial balance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from keel.core.models import Activity, SubmissionCount
from keel.core.tests.factories import member
from keel.ledger.choices import EntryStatus, PeriodStatus
from keel.ledger.models import Account, Entry, FiscalYear, Journal, Line, Period
from keel.ledger.selectors import trial_balance
from keel.ledger.services.periods import ensure_fiscal_year
from keel.ledger.services.posting import LineInput, create_draft_entry
from keel.ledger.tests.factories import party_for, post_sale, set_up_books
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db


def _books(company, owner):
    set_up_books(company)
    return {}


def _entry(company, owner):
    set_up_books(company)
    return {"pk": post_sale(company).pk}


def _account(company, owner):
    set_up_books(company)
    return {"pk": Account.objects.get(company=company, code="1200").pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:account_list"),
    Page("ledger:account_list", query="?q=bank&account_type=asset&active=all"),
    Page("ledger:account_search", query="?q=1"),
    Page("ledger:account_create", denied_role="auditor"),
    Page("ledger:chart_import", denied_role="auditor"),
    Page("ledger:chart_export"),
    Page("ledger:account_edit", make=_account, denied_role="auditor"),
    Page("ledger:account_group_list"),
    Page("ledger:cost_centre_list"),
    Page("ledger:journal_list"),
    Page("ledger:period_list"),
    Page("ledger:entry_list"),
    Page("ledger:entry_list", query="?journal=SAL&status=posted&date_from=2026-01-01&date_to=2026-12-31&q=SAL&account=1200"),
    Page("ledger:entry_create", denied_role="auditor"),
    Page("ledger:entry_import", denied_role="auditor"),
    Page("ledger:entry_detail", make=_entry),
    Page("ledger:entry_edit", make=lambda c, o: {"pk": _draft(c).pk}, denied_role="auditor"),
    Page("ledger:trial_balance"),
    Page("ledger:trial_balance", query="?date_from=2026-03-01&date_to=2026-03-31&format=csv"),
])


def _draft(company):
    set_up_books(company)
    return create_draft_entry(actor=None, company=company, journal="GEN", date=dt.date(2026, 3, 10),
                              lines=[LineInput(account="6100", debit=50), LineInput(account="1200", party=party_for(company, "1200"), credit=50)],
                              check_permission=False)


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


def _entry_post(journal_id, lines, action="post", **extra):
    data = {"journal": journal_id, "date": "2026-03-15", "reference": "INV-7", "description": "Sale",
            "action": action, "lines-TOTAL_FORMS": str(len(lines)), "lines-INITIAL_FORMS": "0",
            "lines-MIN_NUM_FORMS": "0", "lines-MAX_NUM_FORMS": "500", **extra}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = value
    return data


def _ids(company, *codes):
    return [Account.objects.get(company=company, code=code).pk for code in codes]


def test_an_accountant_posts_an_entry_with_lines_and_sees_it(books, web):
    receivable, sales = _ids(books, "1210", "4000")
    journal = Journal.objects.get(company=books, code="SAL")
    response = web.post("/ledger/entries/new/", _entry_post(journal.pk, [
        {"account": receivable, "debit": "120.00", "label": "Invoice 7"},
        {"account": sales, "credit": "120.00"},
        {},  # a blank row is ignored
    ]))
    entry = Entry.objects.get(company=books)
    assert response.status_code == 302 and response["Location"] == f"/ledger/entries/{entry.pk}/"
    assert entry.status == EntryStatus.POSTED and entry.number.startswith("SAL/2026/")
    page = web.get(f"/ledger/entries/{entry.pk}/").content.decode()
    assert "Invoice 7" in page and "120.00" in page and "ledger.entry_posted" in page


def test_an_unbalanced_entry_is_refused_on_the_form_and_nothing_is_written(books, web):
    receivable, sales = _ids(books, "1210", "4000")
    journal = Journal.objects.get(company=books, code="SAL")
    response = web.post("/ledger/entries/new/", _entry_post(journal.pk, [
        {"account": receivable, "debit": "120.00"}, {"account": sales, "credit": "100.00"}]))
    assert response.status_code == 200
    assert b"does not balance" in response.content and b"difference 20.00" in response.content
    assert not Entry.objects.filter(company=books).exists()
    assert SubmissionCount.objects.get(company=books, document_type="ledger.entry").rejected == 1


def test_a_line_error_lands_on_its_row(books, web):
    receivable, sales = _ids(books, "1210", "4000")
    journal = Journal.objects.get(company=books, code="SAL")
    response = web.post("/ledger/entries/new/", _entry_post(journal.pk, [
        {}, {"account": receivable, "debit": "10"}, {"account": sales, "credit": "10.001"}]))
    formset = response.context["formset"]
    assert formset.forms[2].errors == {"credit": ["At most 2 decimals are allowed here; got '10.001'."]}
    assert not Entry.objects.filter(company=books).exists()


def test_add_line_keeps_what_was_typed_and_adds_a_row(books, web):
    receivable, _sales = _ids(books, "1210", "4000")
    journal = Journal.objects.get(company=books, code="SAL")
    response = web.post("/ledger/entries/new/", _entry_post(journal.pk, [
        {"account": receivable, "debit": "10"}, {}], action="add_line"))
    assert response.status_code == 200 and len(response.context["formset"].forms) == 3
    assert response.context["total_debit"] == Decimal("10")
    assert not Entry.objects.filter(company=books).exists()


def test_save_a_draft_edit_it_then_post_it(books, web):
    expense, bank = _ids(books, "6100", "1210")
    journal = Journal.objects.get(company=books, code="GEN")
    web.post("/ledger/entries/new/", _entry_post(journal.pk, [
        {"account": expense, "debit": "30"}, {"account": bank, "credit": "20"}], action="draft"))
    draft = Entry.objects.get(company=books)
    assert draft.status == EntryStatus.DRAFT and draft.number == ""
    response = web.post(f"/ledger/entries/{draft.pk}/edit/", _entry_post(journal.pk, [
        {"account": expense, "debit": "30"}, {"account": bank, "credit": "30"}], action="post"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == EntryStatus.POSTED and draft.number.startswith("GEN/2026/")
    assert sorted(Line.objects.filter(entry=draft).values_list("credit", flat=True)) == [0, 30]


def test_deleting_a_draft_and_posting_one_from_its_page(books, web):
    draft = _draft(books)
    assert web.post(f"/ledger/entries/{draft.pk}/post/").status_code == 302
    draft.refresh_from_db()
    assert draft.status == EntryStatus.POSTED
    other = _draft(books)
    web.post(f"/ledger/entries/{other.pk}/delete/")
    assert not Entry.objects.filter(pk=other.pk).exists()


def test_reversing_an_entry_links_both_ways(books, web):
    entry = post_sale(books)
    response = web.post(f"/ledger/entries/{entry.pk}/reverse/", {"date": "2026-03-20", "description": "Wrong customer"})
    reversal = Entry.objects.get(reversal_of=entry)
    assert response["Location"] == f"/ledger/entries/{reversal.pk}/"
    entry.refresh_from_db()
    assert entry.status == EntryStatus.REVERSED and reversal.description == "Wrong customer"
    assert f"/ledger/entries/{reversal.pk}/".encode() in web.get(f"/ledger/entries/{entry.pk}/").content
    assert f"/ledger/entries/{entry.pk}/".encode() in web.get(f"/ledger/entries/{reversal.pk}/").content


def test_a_clerk_cannot_post_or_reverse(books, clerk, client_for):
    entry = post_sale(books)
    client = client_for(clerk)
    assert client.post(f"/ledger/entries/{entry.pk}/reverse/", {"date": "2026-03-20"}).status_code == 403
    entry.refresh_from_db()
    assert entry.status == EntryStatus.POSTED


def test_the_entry_list_filters_and_searches(books, web):
    first = post_sale(books, amount="10.00", day=dt.date(2026, 3, 2))
    post_sale(books, amount="20.00", day=dt.date(2026, 5, 2))
    page = web.get("/ledger/entries/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert first.number in page and page.count("SAL/2026/") == 1
    assert first.number.encode() in web.get(f"/ledger/entries/?q={first.number}").content
    assert b"No entries match" in web.get("/ledger/entries/?journal=PUR").content
    assert b"No entries match" in web.get("/ledger/entries/?account=6100").content
    assert web.get("/ledger/entries/?date_from=bogus").status_code == 200


def test_the_entry_list_has_a_fixed_number_of_queries(books, web, django_assert_max_num_queries):
    for day in range(1, 21):
        post_sale(books, day=dt.date(2026, 3, day))
    web.get("/ledger/entries/")
    with django_assert_max_num_queries(12):
        assert web.get("/ledger/entries/").status_code == 200


def test_creating_editing_deactivating_and_deleting_accounts(books, web):
    response = web.post("/ledger/accounts/new/", {"code": "6999", "name": "Sundry", "account_type": "expense"})
    assert response.status_code == 302
    account = Account.objects.get(company=books, code="6999")
    web.post(f"/ledger/accounts/{account.pk}/edit/", {"name": "Sundry costs", "role": "", "description": "x"})
    account.refresh_from_db()
    assert account.name == "Sundry costs" and account.account_type == "expense"
    web.post(f"/ledger/accounts/{account.pk}/toggle/")
    account.refresh_from_db()
    assert not account.is_active
    assert b"Sundry costs" not in web.get("/ledger/accounts/?q=sundry").content
    assert b"Sundry costs" in web.get("/ledger/accounts/?q=sundry&active=no").content
    web.post(f"/ledger/accounts/{account.pk}/delete/")
    assert not Account.objects.filter(pk=account.pk).exists()


def test_an_account_with_lines_cannot_be_deleted(books, web):
    post_sale(books)
    account = Account.objects.get(company=books, code="1200")
    response = web.post(f"/ledger/accounts/{account.pk}/delete/", follow=True)
    assert b"deactivate it instead" in response.content and Account.objects.filter(pk=account.pk).exists()


def test_a_duplicate_account_code_is_refused_on_the_field(books, web):
    response = web.post("/ledger/accounts/new/", {"code": "1200", "name": "Again", "account_type": "asset"})
    assert response.status_code == 200 and "code" in response.context["form"].errors


def test_chart_export_and_import_round_trip(books, web):
    exported = web.get("/ledger/accounts/export/").content.decode()
    assert "account,1200," in exported
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = exported + "account,6998,Training,expense,,\n"
    response = web.post("/ledger/accounts/import/", {"file": SimpleUploadedFile("c.csv", text.encode())})
    assert response.status_code == 302 and Account.objects.filter(company=books, code="6998").exists()
    bad = "kind,code,name,type,role,parent\naccount,7777,Bad,nonsense,,\n"
    response = web.post("/ledger/accounts/import/", {"file": SimpleUploadedFile("c.csv", bad.encode())})
    assert response.status_code == 200 and b"line 2" in response.content
    assert not Account.objects.filter(company=books, code="7777").exists()


def test_cost_centres_and_journals_are_added_from_their_lists(books, web, client_for):
    web.post("/ledger/cost-centres/", {"code": "OPS", "name": "Operations"})
    assert b"Operations" in web.get("/ledger/cost-centres/").content
    web.post("/ledger/journals/", {"code": "BNK2", "name": "Second bank", "kind": "bank"})
    assert b"Second bank" in web.get("/ledger/journals/").content
    auditor = member(books, "auditor")
    assert client_for(auditor).post("/ledger/cost-centres/", {"code": "X", "name": "X"}).status_code == 403


def test_closing_reopening_with_a_reason_and_locking_periods(books, client_for):
    web = client_for(member(books, "administrator", username="admin@acme.test"))  # reopening is theirs
    period = Period.objects.get(company=books, start=dt.date(2026, 3, 1))
    web.post(f"/ledger/periods/{period.pk}/close/")
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    response = web.post(f"/ledger/periods/{period.pk}/reopen/", {"reason": ""}, follow=True)
    assert b"Say why" in response.content
    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    web.post(f"/ledger/periods/{period.pk}/reopen/", {"reason": "Late supplier invoice"})
    period.refresh_from_db()
    assert period.status == PeriodStatus.OPEN
    activity = Activity.objects.filter(company=books, verb="ledger.period_reopened").get()
    assert activity.data["reason"] == "Late supplier invoice"
    web.post(f"/ledger/periods/{period.pk}/close/")
    web.post(f"/ledger/periods/{period.pk}/lock/")
    period.refresh_from_db()
    assert period.status == PeriodStatus.LOCKED


def test_opening_a_fiscal_year_and_closing_one_from_the_page(books, web, owner, client_for):
    web.post("/ledger/fiscal-years/open/", {"year": "2028"})
    assert FiscalYear.objects.filter(company=books, year=2028).exists()
    assert Period.objects.filter(company=books, fiscal_year__year=2028).count() == 12
    post_sale(books, amount="1234.50", day=dt.date(2025, 6, 1))
    year = FiscalYear.objects.get(company=books, year=2025)
    assert web.post(f"/ledger/fiscal-years/{year.pk}/close/").status_code == 403  # the accountant: not theirs
    web = client_for(owner)
    response = web.post(f"/ledger/fiscal-years/{year.pk}/close/", follow=True)
    assert b"FY2025 is closed: result 1,234.50 EUR moved to retained earnings" in response.content
    year.refresh_from_db()
    assert year.status == PeriodStatus.CLOSED


def test_the_trial_balance_page_links_figures_to_the_general_ledger_and_downloads_csv(books, web):
    post_sale(books, amount="100.00")
    page = web.get("/ledger/trial-balance/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    # Figures open the account's general ledger (no longer the entry list), as on every statement.
    assert "/ledger/reports/general-ledger/?account=1200&amp;date_from=2026-03-01&amp;date_to=2026-03-31" in page
    assert "balanced" in page
    response = web.get("/ledger/trial-balance/?date_from=2026-03-01&date_to=2026-03-31&format=csv")
    # The shared export: a title and a subtitle row, then the same columns as before.
    rows = response.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "Trial balance"
    assert rows[2] == "code,name,type,opening,debit,credit,closing"
    assert rows[-1] == ",Total,,0.00,100.00,100.00,0.00"
    report = trial_balance(books, dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert len(rows) == len(report.rows) + 4
    assert b"ends before it starts" in web.get("/ledger/trial-balance/?date_from=2026-04-01&date_to=2026-03-01").content


def test_importing_entries_from_the_page_is_all_or_nothing(books, web):
    from django.core.files.uploadedfile import SimpleUploadedFile

    good = ("entry,date,journal,account,label,debit,credit\n"
            "1,2026-03-01,GEN,6100,Rent,500,\n1,2026-03-01,GEN,1210,,,500\n")
    bad = good + "2,2026-03-02,GEN,6100,x,abc,\n2,2026-03-02,GEN,1210,,,1\n"
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("e.csv", bad.encode())})
    assert response.status_code == 200 and b"line 4: The debit &#x27;abc&#x27; is not a number." in response.content
    assert not Entry.objects.filter(company=books).exists()
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("e.csv", good.encode()),
                                                    "dry_run": "on"})
    assert b"The file is valid: 1 entries" in response.content and not Entry.objects.filter(company=books).exists()
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("e.csv", good.encode())})
    assert response.status_code == 302 and Entry.objects.filter(company=books, status="posted").count() == 1


def test_the_accounting_menu_is_shown_to_the_accountant_only(books, web, client_for):
    page = web.get("/ledger/entries/").content.decode()
    assert "Chart of accounts" in page and "Trial balance" in page
    employee = member(books, "employee")
    assert "Chart of accounts" not in client_for(employee).get("/").content.decode()


def test_the_entry_list_shows_each_entry_amount_with_one_query_for_the_page(books, web, django_assert_max_num_queries):
    from keel.ledger.tests.factories import post_sale

    for amount in ("120.00", "75.50", "10.00"):
        post_sale(books, amount=amount)
    with django_assert_max_num_queries(25):
        page = web.get("/ledger/entries/").content.decode()
    assert "120.00" in page and "75.50" in page
    many = web.get("/ledger/entries/")
    assert [e.total for e in many.context["page_obj"].object_list] == [Decimal("10.00"), Decimal("75.50"),
                                                                      Decimal("120.00")]


def test_the_journal_list_shows_this_years_postings_from_the_counters(books, web, django_assert_max_num_queries):
    today = timezone.localdate()
    ensure_fiscal_year(company=books, fiscal_year=books.fiscal_year_of(today))
    for _ in range(3):
        post_sale(books, day=today)
    post_sale(books, day=today, journal="GEN")
    with django_assert_max_num_queries(12):
        response = web.get("/ledger/journals/")
    rows = {journal.code: (journal.posted_count, journal.last_number) for journal in response.context["page_obj"]}
    year = books.fiscal_year_of(today)
    assert rows["SAL"] == (3, f"SAL/{year}/000003") and rows["GEN"] == (1, f"GEN/{year}/000001")
    assert rows["PUR"] == (0, "")
    assert f"Entries posted in FY{year}" in response.content.decode()
    start, end = books.fiscal_year_bounds(year)
    assert (f"/ledger/entries/?journal=SAL&amp;status=posted&amp;date_from={start:%Y-%m-%d}&amp;date_to={end:%Y-%m-%d}"
            in response.content.decode())


def test_a_cost_centre_is_deactivated_and_reactivated_from_its_list(books, web, client_for):
    from keel.ledger.models import CostCentre

    web.post("/ledger/cost-centres/", {"code": "OPS", "name": "Operations"})
    centre = CostCentre.objects.get(company=books, code="OPS")
    assert Activity.objects.filter(company=books, verb="ledger.cost_centre_changed", data__action="created").exists()
    assert client_for(member(books, "auditor")).post(f"/ledger/cost-centres/{centre.pk}/toggle/").status_code == 403
    response = client_for(member(books, "accountant", username="second@acme.test")).post(
        f"/ledger/cost-centres/{centre.pk}/toggle/", follow=True)
    centre.refresh_from_db()
    assert not centre.is_active and b"Cost centre OPS is inactive now." in response.content
    web.post(f"/ledger/cost-centres/{centre.pk}/toggle/")
    centre.refresh_from_db()
    assert centre.is_active
    assert list(Activity.objects.filter(company=books, verb="ledger.cost_centre_changed").order_by("id")
                .values_list("data__action", flat=True)) == ["created", "deactivated", "activated"]


def test_the_entry_totals_of_a_page_read_lines_by_their_entry(books, web):
    """SQLite keeps no statistics: a company filter beside the entry ids made it walk every line
    of the company by the (company, ...) indexes instead of the entry index."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        post_sale(books)
    with CaptureQueriesContext(connection) as captured:
        web.get("/ledger/entries/")
    [totals] = [q["sql"] for q in captured.captured_queries if 'SUM' in q["sql"] and '"ledger_line"' in q["sql"]]
    if connection.vendor != "sqlite":
        return  # PostgreSQL plans by its statistics
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {totals}")
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "ledger_line_entry_id" in plan


def test_adding_a_line_with_an_odd_line_count_is_no_server_error(books, accountant, client_for):
    response = client_for(accountant).post("/ledger/entries/new/", {"action": "add_line", "lines-TOTAL_FORMS": "\u00b2"})
    assert response.status_code == 200
