"""The cash-flow section of account groups (and, where one differs, of an account).

The statement reads the section set on the chart, never the names: a chart in another
language gives the same statement; a blank group takes its parent's section (a top-level
one: operating); an account's own section wins over its group's. The section travels in the
chart CSV, and accountants set it on the group pages and through the API.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
from decimal import Decimal

import pytest
from django.apps import apps

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import ValidationFailed
from keel.core.models import Activity
from keel.core.tests.factories import member
from keel.ledger.models import Account, AccountGroup
from keel.ledger.reports import cash_flow, report_range
from keel.ledger.services.chart import (
    create_account,
    export_chart_csv,
    import_chart_csv,
    update_account,
    update_account_group,
)
from keel.ledger.tests.factories import set_up_books
from keel.ledger.tests.test_reports import post, post_story
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
# The story of test_reports: operating 400 (550 result + 100 depreciation - 500 receivables
# + 50 payables + 200 VAT), equipment bought for 2,000, share capital 10,000 and a loan 5,000.
STORY_SECTIONS = {"operating": D("400.00"), "investing": D("-2000.00"), "financing": D("15000.00")}


@pytest.fixture
def story(books):
    return post_story(books)


def statement(company):
    return cash_flow(company, report_range(company, date_from=Q1[0], date_to=Q1[1]))


def sections(report) -> dict[str, Decimal]:
    return {key: report.summary[key] for key in ("operating", "investing", "financing")}


def section_of(report, code: str) -> str:
    """The heading an account's row sits under ("Investing activities", "Changes in working capital", ...)."""
    heading = None
    for row in report.rows:
        if row.kind == "heading":
            heading = row.label
        elif row.kind == "account" and row.code == code:
            return heading
    raise AssertionError(f"account {code} is not on the statement")


def group(company, code: str) -> AccountGroup:
    return AccountGroup.objects.for_company(company).get(code=code)


def account(company, code: str) -> Account:
    return Account.objects.for_company(company).get(code=code)


def assert_reconciles(report):
    summary = report.summary
    assert summary["closing_cash"] - summary["opening_cash"] == (
        summary["operating"] + summary["investing"] + summary["financing"]) == summary["net_change"]
    assert summary["reconciles"] is True


# -- the statement reads the classification --------------------------------------------------------


def test_the_template_classifies_the_chart(books):
    assert {g.code: g.cash_flow for g in AccountGroup.objects.for_company(books)} == {
        "1": "", "10": "investing", "11": "operating", "12": "operating", "2": "", "20": "financing",
        "21": "operating", "3": "financing", "4": "", "5": "", "6": "", "7": ""}
    overrides = {a.code: a.cash_flow for a in Account.objects.for_company(books).exclude(cash_flow="")}
    assert overrides == {"1090": "non_cash", "2500": "financing"}


def test_a_chart_without_english_names_gives_the_same_statement(story, owner):
    for code, name in (("10", "Anlagevermögen"), ("20", "Langfristige Verbindlichkeiten"), ("3", "Eigenkapital")):
        update_account_group(actor=owner, group=group(story, code), name=name)
    for code, name in (("1090", "Kumulierte Abschreibungen"), ("2000", "Bankdarlehen")):
        update_account(actor=owner, account=account(story, code), name=name)
    report = statement(story)
    assert sections(report) == STORY_SECTIONS
    assert section_of(report, "1010") == "Investing activities"
    assert section_of(report, "1090") == "Adjustments for non-cash items"
    assert section_of(report, "2000") == section_of(report, "3000") == "Financing activities"
    assert_reconciles(report)


def test_the_section_comes_from_the_tag_not_the_name(story, owner):
    # A group still named "Non-current liabilities" but tagged operating: the loan is working capital now.
    update_account_group(actor=owner, group=group(story, "20"), cash_flow="operating")
    report = statement(story)
    assert section_of(report, "2000") == "Changes in working capital"
    assert sections(report) == {"operating": D("5400.00"), "investing": D("-2000.00"), "financing": D("10000.00")}
    assert_reconciles(report)


def test_a_blank_group_takes_its_parents_section_and_a_top_level_blank_one_is_operating(story, owner):
    chart = ("kind,code,name,type,role,parent,cash_flow\n"
             "group,15,Beteiligungen,,,10,\n"  # blank under investing 10: investing
             "group,9,Sonstiges,,,,\n"  # blank at the top: operating
             "account,1500,Anteile,asset,,15,\n"
             "account,1600,Kaution,asset,,9,\n")
    import_chart_csv(actor=None, company=story, file=io.StringIO(chart), check_permission=False)
    post(story, dt.date(2026, 3, 20), ("1500", "400", "0"), ("1400", "0", "400"))
    post(story, dt.date(2026, 3, 21), ("1600", "100", "0"), ("1400", "0", "100"))
    report = statement(story)
    assert section_of(report, "1500") == "Investing activities"
    assert section_of(report, "1600") == "Changes in working capital"
    assert sections(report) == {"operating": D("300.00"), "investing": D("-2400.00"), "financing": D("15000.00")}
    assert_reconciles(report)
    # Tagging the parent moves the child group's account with it.
    update_account_group(actor=None, group=group(story, "10"), cash_flow="financing", check_permission=False)
    assert section_of(statement(story), "1500") == "Financing activities"


def test_an_accounts_own_section_wins_over_its_groups(story, owner):
    update_account(actor=owner, account=account(story, "1200"), cash_flow="investing")
    report = statement(story)
    assert section_of(report, "1200") == "Investing activities"
    assert report.summary["investing"] == D("-2500.00") and report.summary["operating"] == D("900.00")
    assert_reconciles(report)
    update_account(actor=owner, account=account(story, "1200"), cash_flow="")  # back to its group's
    assert sections(statement(story)) == STORY_SECTIONS


@pytest.mark.parametrize("section", ["operating", "non_cash", "investing", "financing", ""])
def test_whatever_the_sections_the_statement_reconciles(story, owner, section):
    for code in ("10", "11", "20", "21", "3"):
        update_account_group(actor=owner, group=group(story, code), cash_flow=section)
    assert_reconciles(statement(story))


def test_cash_stays_cash_by_its_role_whatever_its_group_says(story, owner):
    update_account_group(actor=owner, group=group(story, "12"), cash_flow="investing")
    report = statement(story)
    assert "1400" not in {row.code for row in report.rows if row.kind == "account"}
    assert report.summary["closing_cash"] == D("13400.00") and sections(report) == STORY_SECTIONS


def test_a_bad_section_is_refused_and_nothing_changes(books, owner):
    with pytest.raises(ValidationFailed) as exc:
        update_account_group(actor=owner, group=group(books, "10"), name="Fixed", cash_flow="capex")
    assert exc.value.code == "account_group.invalid_cash_flow" and list(exc.value.fields) == ["cash_flow"]
    assert "'capex'" in exc.value.message
    assert (group(books, "10").name, group(books, "10").cash_flow) == ("Non-current assets", "investing")
    with pytest.raises(ValidationFailed) as exc:
        create_account(actor=owner, company=books, code="1095", name="X", account_type="asset", cash_flow="capex")
    assert exc.value.code == "account.invalid_cash_flow"
    assert not Account.objects.for_company(books).filter(code="1095").exists()


def test_changing_a_groups_section_is_recorded(books, owner):
    update_account_group(actor=owner, group=group(books, "21"), cash_flow="financing")
    activity = Activity.objects.get(company=books, verb="ledger.account_group_changed")
    assert activity.data["fields"] == ["cash_flow"] and activity.data["cash_flow"] == "financing"
    update_account_group(actor=owner, group=group(books, "21"), cash_flow="financing")  # no change, no record
    assert Activity.objects.filter(company=books, verb="ledger.account_group_changed").count() == 1


# -- the chart file carries it -------------------------------------------------------------------


def test_export_writes_the_column_and_import_reproduces_it(books, other_company, owner):
    update_account_group(actor=owner, group=group(books, "21"), cash_flow="")
    update_account(actor=owner, account=account(books, "1250"), cash_flow="non_cash")
    text = export_chart_csv(company=books)
    lines = text.splitlines()
    assert lines[0] == "kind,code,name,type,role,parent,cash_flow"
    assert "group,10,Non-current assets,,,1,investing" in lines and "group,21,Current liabilities,,,2," in lines
    assert "account,1250,Prepaid expenses,asset,,11,non_cash" in lines
    import_chart_csv(actor=None, company=other_company, file=io.StringIO(text), check_permission=False)
    assert export_chart_csv(company=other_company) == text
    assert group(other_company, "21").cash_flow == "" and account(other_company, "1250").cash_flow == "non_cash"


def test_importing_the_column_again_updates_groups_and_accounts(books):
    text = ("kind,code,name,type,role,parent,cash_flow\n"
            "group,21,Current liabilities,,,2,Financing\n"
            "account,1090,Accumulated depreciation,asset,,10,\n")
    result = import_chart_csv(actor=None, company=books, file=io.StringIO(text), check_permission=False)
    assert (result.groups_updated, result.accounts_updated) == (1, 1)
    assert group(books, "21").cash_flow == "financing" and account(books, "1090").cash_flow == ""


def test_a_file_without_the_column_leaves_the_classification(books):
    text = ("kind,code,name,type,role,parent\n"
            "group,10,Non-current assets,,,1\n"
            "account,1090,Accumulated depreciation,asset,,10\n"
            "account,1095,Goodwill,asset,,10\n")
    result = import_chart_csv(actor=None, company=books, file=io.StringIO(text), check_permission=False)
    assert (result.groups_updated, result.accounts_created, result.accounts_updated) == (0, 1, 0)
    assert group(books, "10").cash_flow == "investing" and account(books, "1090").cash_flow == "non_cash"
    assert account(books, "1095").cash_flow == ""


def test_a_bad_section_in_the_file_names_line_and_value_and_loads_nothing(books):
    text = ("kind,code,name,type,role,parent,cash_flow\n"
            "group,15,Beteiligungen,,,10,investing\n"
            "group,21,Current liabilities,,,2,financing\n"
            "account,1500,Anteile,asset,,15,capex\n")
    with pytest.raises(ValidationFailed) as exc:
        import_chart_csv(actor=None, company=books, file=io.StringIO(text), check_permission=False)
    assert exc.value.code == "chart.invalid"
    assert "line 4" in exc.value.message and "'capex'" in exc.value.message
    assert [(e["line"], e["code"]) for e in exc.value.extra["errors"]] == [(4, "chart.invalid_cash_flow")]
    assert not AccountGroup.objects.for_company(books).filter(code="15").exists()
    assert not Account.objects.for_company(books).filter(code="1500").exists()
    assert group(books, "21").cash_flow == "operating"


# -- existing books: the migration classifies them once by the old name guess --------------------


def test_the_migration_keeps_the_statement_of_existing_books(story, other_books):
    before = statement(story)
    AccountGroup.objects.filter(company__in=[story, other_books]).update(cash_flow="")
    Account.objects.filter(company__in=[story, other_books]).update(cash_flow="")
    migration = importlib.import_module("keel.ledger.migrations.0006_group_cash_flow")
    migration.classify_existing_books(apps, None)
    after = statement(story)
    assert sections(after) == sections(before) == STORY_SECTIONS
    assert [(r.kind, r.label, r.amount) for r in after.rows] == [(r.kind, r.label, r.amount) for r in before.rows]
    for company in (story, other_books):
        assert {g.code: g.cash_flow for g in AccountGroup.objects.for_company(company)} == {
            "1": "", "10": "investing", "11": "operating", "12": "operating", "2": "", "20": "financing",
            "21": "operating", "3": "financing", "4": "", "5": "", "6": "", "7": ""}
        assert {a.code: a.cash_flow for a in Account.objects.for_company(company).exclude(cash_flow="")} == {
            "1090": "non_cash", "2500": "financing"}


# -- the API -------------------------------------------------------------------------------------


@pytest.fixture
def api(books, accountant):
    return ApiClient(accountant, books)


def test_the_api_lists_groups_with_their_own_and_effective_section(api, books):
    response = api.get("/api/ledger/account-groups?limit=200")
    assert response.status_code == 200
    rows = {row["code"]: row for row in response.json()["items"]}
    assert rows["10"]["cash_flow"] == rows["10"]["effective_cash_flow"] == "investing"
    assert (rows["1"]["cash_flow"], rows["1"]["effective_cash_flow"]) == ("", "operating")
    assert rows["10"]["parent"] == "1" and rows["1"]["parent"] is None


def test_the_api_sets_a_groups_section_and_the_statement_follows(api, books):
    post_story(books)
    pk = group(books, "20").pk
    response = api.patch(f"/api/ledger/account-groups/{pk}", {"cash_flow": "operating", "name": "Langfristig"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["cash_flow"], body["effective_cash_flow"]) == ("Langfristig", "operating", "operating")
    assert section_of(statement(books), "2000") == "Changes in working capital"
    cleared = api.patch(f"/api/ledger/account-groups/{pk}", {"cash_flow": ""}).json()
    assert (cleared["cash_flow"], cleared["effective_cash_flow"]) == ("", "operating")  # parent 2 is blank


def test_the_api_refuses_a_bad_section_and_changes_nothing(api, books):
    pk = group(books, "20").pk
    assert_error(api.patch(f"/api/ledger/account-groups/{pk}", {"cash_flow": "capex", "name": "X"}), 400,
                 "request.invalid")
    assert (group(books, "20").name, group(books, "20").cash_flow) == ("Non-current liabilities", "financing")


def test_an_auditor_may_read_groups_but_not_change_them(books):
    auditor = ApiClient(member(books, "auditor"), books)
    assert auditor.get("/api/ledger/account-groups").status_code == 200
    pk = group(books, "20").pk
    assert_error(auditor.patch(f"/api/ledger/account-groups/{pk}", {"cash_flow": "operating"}), 403,
                 "permission.denied")
    assert group(books, "20").cash_flow == "financing"


def test_the_api_sets_an_accounts_own_section(api, books):
    created = api.post("/api/ledger/accounts", {"code": "1095", "name": "Amortisation of software",
                                                 "account_type": "asset", "group": "10", "cash_flow": "non_cash"})
    assert created.status_code == 201 and created.json()["cash_flow"] == "non_cash"
    patched = api.patch(f"/api/ledger/accounts/{created.json()['id']}", {"cash_flow": ""})
    assert patched.status_code == 200 and patched.json()["cash_flow"] == ""
    assert account(books, "1095").cash_flow == ""


# -- the pages -----------------------------------------------------------------------------------


def _group_page(company, owner):
    set_up_books(company)
    return {"pk": group(company, "10").pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:account_group_edit", make=_group_page, denied_role="auditor"),
])


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


def test_the_group_list_shows_each_section_and_what_a_blank_one_inherits(web, books):
    update_account_group(actor=None, group=group(books, "2"), cash_flow="financing", check_permission=False)
    update_account_group(actor=None, group=group(books, "21"), cash_flow="", check_permission=False)
    page = web.get("/ledger/account-groups/").content.decode()
    assert "<td>Investing</td>" in page and "<td>Financing</td>" in page
    assert "Operating (working capital) (default)" in page  # a blank top-level group
    assert "Financing (as its parent)" in page  # 21 under 2
    assert f"/ledger/account-groups/{group(books, '10').pk}/edit/" in page


def test_an_accountant_sets_a_groups_section_on_its_page(web, books):
    pk = group(books, "11").pk
    response = web.post(f"/ledger/account-groups/{pk}/edit/", {"name": "Umlaufvermögen", "cash_flow": "non_cash"})
    assert response.status_code == 302 and response["Location"] == "/ledger/account-groups/"
    assert (group(books, "11").name, group(books, "11").cash_flow) == ("Umlaufvermögen", "non_cash")
    assert "Non-cash adjustment" in web.get("/ledger/account-groups/").content.decode()


def test_the_group_page_refuses_a_bad_section_and_changes_nothing(web, books):
    pk = group(books, "11").pk
    response = web.post(f"/ledger/account-groups/{pk}/edit/", {"name": "Renamed", "cash_flow": "capex"})
    assert response.status_code == 200 and "cash_flow" in response.context["form"].errors
    assert (group(books, "11").name, group(books, "11").cash_flow) == ("Current assets", "operating")


def test_an_accountant_sets_an_accounts_own_section_on_its_page(web, books):
    prepaid = account(books, "1250")
    response = web.post(f"/ledger/accounts/{prepaid.pk}/edit/", {
        "name": prepaid.name, "role": "", "group": prepaid.group_id, "description": "", "cash_flow": "investing"})
    assert response.status_code == 302
    assert account(books, "1250").cash_flow == "investing"
    form_page = web.get(f"/ledger/accounts/{prepaid.pk}/edit/").content.decode()
    assert "Cash-flow section" in form_page
