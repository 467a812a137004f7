"""Filing a tax return: its figures are stored as filed; a later change of codes or boxes never
changes them, a posting into the period shows as the difference to file; a period is filed
once; the filing frequency sets the page's default period; the page and the API; exports."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.tests.factories import member
from keel.ledger.models import (
    Entry,
    TaxBox,
    TaxCode,
    TaxReturn,
    TaxReturnBox,
    TaxReturnLine,
    TaxSettings,
)
from keel.ledger.services.posting import post_entry, reverse_entry
from keel.ledger.services.taxes import (
    DocumentLine,
    compare_with_ledger,
    compute_taxes,
    file_tax_return,
    filing_period,
    get_filing_frequency,
    period_to_file,
    set_filing_frequency,
    set_tax_box,
    tax_line_inputs,
    update_tax_code,
)
from keel.ledger.tax_reports import get_tax_return
from keel.ledger.tests.factories import party_for
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
Q1 = (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
BOX_1 = "VAT due in the period on sales and other outputs"


def sell(company, amount: str, *, day=dt.date(2026, 3, 10), code="S20") -> Entry:
    computation = compute_taxes(company=company, kind="sales", lines=[DocumentLine(amount=amount, tax_codes=[code])])
    return post_entry(actor=None, company=company, journal="SAL", date=day, check_permission=False,
                      lines=tax_line_inputs(computation, accounts="4000", counterpart="1200", party=party_for(company, "1200")))


def buy(company, amount: str, *, day=dt.date(2026, 3, 12)) -> Entry:
    computation = compute_taxes(company=company, kind="purchase", lines=[
        DocumentLine(amount=amount, tax_codes=["P20"]), DocumentLine(amount="50.00")])
    return post_entry(actor=None, company=company, journal="PUR", date=day, check_permission=False,
                      lines=tax_line_inputs(computation, accounts="6200", counterpart="2100", party=party_for(company, "2100")))


def stored(tax_return: TaxReturn) -> tuple:
    """Everything a filed return stores, to compare before and after."""
    tax_return.refresh_from_db()
    return (tax_return.net_payable, tax_return.code_figures,
            list(TaxReturnBox.objects.filter(tax_return=tax_return).values_list("box", "name", "amount", "is_total")),
            list(TaxReturnLine.objects.filter(tax_return=tax_return).values_list("box", "tax_code__code", "role",
                                                                                 "amount")))


def counts(company) -> tuple[int, int, int, int]:
    return (TaxReturn.objects.for_company(company).count(), TaxReturnBox.objects.for_company(company).count(),
            TaxReturnLine.objects.for_company(company).count(),
            Activity.objects.filter(company=company, verb="ledger.tax_return_filed").count())


# -- filing --------------------------------------------------------------------------------


def test_filing_stores_the_returns_figures_and_lines(books, accountant):
    sell(books, "100.00")
    buy(books, "40.00")
    tax_return, created = file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    assert created and tax_return.filed_by == accountant and tax_return.currency == "EUR"
    assert tax_return.net_payable == D("12.00")  # 20 collected - 8 deductible
    boxes = {box.box: (box.name, box.amount, box.is_total) for box in tax_return.boxes.all()}
    assert {box: amount for box, (_name, amount, _total) in boxes.items()} == {
        "1": D("20.00"), "2": 0, "3": D("20.00"), "4": D("8.00"), "5": D("12.00"), "6": D("100.00"),
        "7": D("40.00"), "8": 0, "9": 0}
    assert boxes["1"][0] == BOX_1 and boxes["5"][2] and not boxes["1"][2]
    assert sorted(tax_return.lines.values_list("box", "tax_code__code", "role", "amount")) == [
        ("1", "S20", "tax", D("20.00")), ("4", "P20", "tax", D("8.00")), ("6", "S20", "base", D("100.00")),
        ("7", "P20", "base", D("40.00"))]
    assert tax_return.code_figures == [
        {"code": "P20", "name": "Standard rate purchases 20 %", "kind": "purchase", "base": "40.00", "tax": "8.00"},
        {"code": "S20", "name": "Standard rate sales 20 %", "kind": "sales", "base": "100.00", "tax": "20.00"}]
    activity = Activity.objects.get(company=books, verb="ledger.tax_return_filed")
    assert activity.subject_id == str(tax_return.pk) and activity.data["net_payable"] == "12.00"
    assert not compare_with_ledger(tax_return).has_difference


def test_a_period_is_filed_once_and_filing_it_again_gives_the_filed_return(books, accountant):
    sell(books, "100.00")
    first, _created = file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    sell(books, "50.00")
    before = counts(books), stored(first)
    again, created = file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    assert again.pk == first.pk and not created
    assert (counts(books), stored(first)) == before  # nothing written: the late sale is a difference


@pytest.mark.parametrize(("date_from", "date_to", "code"), [
    (dt.date(2026, 2, 1), dt.date(2026, 4, 30), "tax_return.overlaps"),  # overlaps the filed March
    (dt.date(2026, 3, 1), dt.date(2026, 3, 15), "tax_return.overlaps"),  # the same start, another end
    (dt.date(2026, 3, 31), dt.date(2026, 3, 1), "report.invalid_range"),
])
def test_a_period_overlapping_a_filed_return_is_refused(books, accountant, date_from, date_to, code):
    file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    before = counts(books)
    with pytest.raises(ValidationFailed) as refused:
        file_tax_return(actor=accountant, company=books, date_from=date_from, date_to=date_to)
    assert refused.value.code == code
    assert counts(books) == before


def test_a_period_that_has_not_ended_is_not_filed(books, accountant):
    from django.utils import timezone

    today = timezone.localdate()
    with pytest.raises(ValidationFailed) as refused:
        file_tax_return(actor=accountant, company=books, date_from=today.replace(day=1), date_to=today)
    assert refused.value.code == "tax_return.period_not_ended"
    assert counts(books) == (0, 0, 0, 0)


def test_only_who_may_file_files(books):
    auditor = member(books, "auditor", username="auditor@acme.test")
    clerk = member(books, "billing_clerk", username="clerk@acme.test")
    for user in (auditor, clerk):
        with pytest.raises(PermissionDenied):
            file_tax_return(actor=user, company=books, date_from=MARCH[0], date_to=MARCH[1])
        with pytest.raises(PermissionDenied):
            set_filing_frequency(actor=user, company=books, frequency="monthly")
    assert counts(books) == (0, 0, 0, 0) and not TaxSettings.objects.for_company(books).exists()


# -- a filed return stays as filed -----------------------------------------------------------


def test_changing_codes_and_boxes_after_filing_leaves_the_filed_return_and_is_no_difference(books, accountant):
    sell(books, "100.00")
    tax_return, _created = file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    before = stored(tax_return)
    s20 = TaxCode.objects.get(company=books, code="S20")
    update_tax_code(actor=accountant, tax_code=s20, base_box="8", tax_box="2", rate="25")
    set_tax_box(actor=accountant, company=books, box="1", name="Output tax")
    assert stored(tax_return) == before
    # The ledger now, with the current codes, puts the sale elsewhere; with the filed codes it
    # is what was filed: no difference to file.
    assert (get_tax_return(books, *MARCH).box("8"), get_tax_return(books, *MARCH).box("6")) == (D("100.00"), 0)
    comparison = compare_with_ledger(tax_return)
    assert not comparison.has_difference
    assert {box.box: box.name for box in comparison.boxes}["1"] == BOX_1  # the filed name


def test_a_posting_into_a_filed_period_is_a_difference_to_file(books, accountant):
    sale = sell(books, "100.00")
    tax_return, _created = file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
    before = stored(tax_return)
    update_tax_code(actor=accountant, tax_code=TaxCode.objects.get(company=books, code="S20"), base_box="8")
    sell(books, "50.00", day=dt.date(2026, 3, 28))  # a late invoice
    buy(books, "10.00", day=dt.date(2026, 3, 5))  # a late bill
    reverse_entry(actor=None, entry=sale, date=dt.date(2026, 3, 30), check_permission=False)
    sell(books, "999.00", day=dt.date(2026, 4, 1))  # after the period: not a difference
    assert stored(tax_return) == before
    comparison = compare_with_ledger(tax_return)
    differences = {box.box: box.difference for box in comparison.boxes if box.difference}
    # The filed boxes read the codes as filed: the late sale is in box 6 (not 8, where S20 now puts it).
    assert differences == {"1": D("-10.00"), "3": D("-10.00"), "4": D("2.00"), "5": D("-12.00"),
                           "6": D("-50.00"), "7": D("10.00")}
    assert {box.box: box.filed for box in comparison.boxes}["6"] == D("100.00")
    assert comparison.net_payable_difference == D("-12.00") and comparison.current.net_payable == D("8.00")


# -- boxes and the filing frequency ------------------------------------------------------------


def test_the_shipped_boxes_have_their_official_names_and_totals(books):
    boxes = {box.box: box for box in TaxBox.objects.for_company(books)}
    assert sorted(boxes) == [str(n) for n in range(1, 10)]
    assert boxes["1"].name == BOX_1 and boxes["3"].total_of == "1+2" and boxes["5"].total_of == "3-4"
    assert boxes["5"].name == "Net VAT to pay to HMRC or reclaim (the difference between boxes 3 and 4)"


@pytest.mark.parametrize(("box", "total_of", "code"), [
    ("2", "3+4", "tax_box.invalid_total"),  # a total adds boxes before it
    ("6", "1+2", "tax_box.filled_by_codes"),  # codes fill box 6
    ("10", "1*2", "tax_box.invalid_total"),
    ("a b", "", "tax_box.invalid"),
])
def test_bad_box_definitions_are_refused(books, accountant, box, total_of, code):
    before = list(TaxBox.objects.for_company(books).values_list("box", "name", "total_of"))
    with pytest.raises(ValidationFailed) as refused:
        set_tax_box(actor=accountant, company=books, box=box, name="A box", total_of=total_of)
    assert refused.value.code == code
    assert list(TaxBox.objects.for_company(books).values_list("box", "name", "total_of")) == before


def test_a_code_does_not_fill_a_total_box(books, accountant):
    s20 = TaxCode.objects.get(company=books, code="S20")
    with pytest.raises(ValidationFailed) as refused:
        update_tax_code(actor=accountant, tax_code=s20, tax_box="5")
    assert refused.value.code == "tax_code.box_is_total"
    s20.refresh_from_db()
    assert s20.tax_box == "1"


def test_a_new_box_and_a_new_total_show_on_the_return(books, accountant):
    set_tax_box(actor=accountant, company=books, box="10", name="Eco-tax due")
    set_tax_box(actor=accountant, company=books, box="11", name="All tax due", total_of="1 + 10")
    update_tax_code(actor=accountant, tax_code=TaxCode.objects.get(company=books, code="S5"), tax_box="10")
    sell(books, "100.00")
    sell(books, "100.00", code="S5")
    report = get_tax_return(books, *MARCH)
    assert (report.box("1"), report.box("10"), report.box("11")) == (D("20.00"), D("5.00"), D("25.00"))
    assert [b.name for b in report.boxes if b.box in ("10", "11")] == ["Eco-tax due", "All tax due"]


def test_the_filing_frequency_gives_the_period_to_file(books, accountant):
    assert get_filing_frequency(books) == "quarterly"
    assert period_to_file(books, dt.date(2026, 5, 15)) == Q1
    assert period_to_file(books, dt.date(2026, 1, 1)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    set_filing_frequency(actor=accountant, company=books, frequency="monthly")
    assert get_filing_frequency(books) == "monthly"
    assert period_to_file(books, dt.date(2026, 4, 10)) == MARCH
    assert Activity.objects.filter(company=books, verb="ledger.tax_settings_changed").count() == 1
    with pytest.raises(ValidationFailed) as refused:
        set_filing_frequency(actor=accountant, company=books, frequency="yearly")
    assert refused.value.code == "tax_settings.invalid_frequency" and get_filing_frequency(books) == "monthly"


def test_quarters_follow_the_fiscal_year(books):
    books.fiscal_year_start_month = 4
    assert filing_period(books, dt.date(2026, 5, 15), "quarterly") == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert filing_period(books, dt.date(2026, 2, 15), "quarterly") == (dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    assert filing_period(books, dt.date(2026, 12, 31), "quarterly") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


# -- the page, the exports, the API -------------------------------------------------------------


def test_the_return_page_names_the_boxes_shows_the_net_payable_and_files(books, accountant, client_for):
    sell(books, "100.00")
    buy(books, "40.00")
    client = client_for(accountant)
    url = "/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31"
    content = client.get(url).content.decode()
    assert BOX_1 in content and "Net tax payable: 12.00" in content and "File this return" in content
    response = client.post("/ledger/tax-return/file/", {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert response.status_code == 302 and TaxReturn.objects.for_company(books).count() == 1
    sell(books, "50.00", day=dt.date(2026, 3, 30))
    content = client.get(url).content.decode()
    assert "Filed on" in content and "Difference to file" in content and "File this return" not in content
    assert "<strong>10.00</strong>" in content  # box 1: the late sale's tax


def test_the_page_defaults_to_the_period_to_file(books, accountant, client_for):
    client = client_for(accountant)
    start, end = period_to_file(books)
    content = client.get("/ledger/tax-return/").content.decode()
    assert f'value="{start.isoformat()}"' in content and f'value="{end.isoformat()}"' in content
    assert "files quarterly" in content
    client.post("/ledger/tax-return/frequency/", {"filing_frequency": "monthly"})
    start, end = period_to_file(books)
    assert end.day != 1 and start.day == 1 and (end - start).days < 31
    content = client.get("/ledger/tax-return/").content.decode()
    assert f'value="{start.isoformat()}"' in content and "files monthly" in content


def test_an_auditor_sees_the_return_but_cannot_file(books, client_for):
    auditor = member(books, "auditor", username="auditor@acme.test")
    client = client_for(auditor)
    content = client.get("/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert BOX_1 in content and "File this return" not in content
    response = client.post("/ledger/tax-return/file/", {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert response.status_code == 403 and not TaxReturn.objects.for_company(books).exists()


@pytest.mark.parametrize("filed", [False, True])
def test_the_exports_open(books, accountant, client_for, filed):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    sell(books, "100.00")
    if filed:
        file_tax_return(actor=accountant, company=books, date_from=MARCH[0], date_to=MARCH[1])
        sell(books, "50.00")
    client = client_for(accountant)
    base = "/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31&format="
    xlsx = client.get(base + "xlsx")
    assert xlsx["Content-Disposition"].endswith('tax-return-acme-2026-03-01-2026-03-31.xlsx"')
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    box_1 = next(row for row in rows if row[0] == "1")
    assert box_1[1] == BOX_1
    if filed:  # filed, the ledger now, the difference
        assert [D(str(v)) for v in box_1[2:5]] == [D("20.00"), D("30.00"), D("10.00")]
    else:
        assert D(str(box_1[2])) == D("20.00")
    pdf = client.get(base + "pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert pdf["Content-Type"] == "application/pdf" and "Net tax payable" in text and "VAT due in the period" in text
    csv = client.get(base + "csv")
    assert csv["Content-Type"].startswith("text/csv") and BOX_1.encode() in csv.content


def test_the_api_files_lists_and_shows_returns(books, accountant):
    sell(books, "100.00")
    api = ApiClient(accountant, books)
    filed = api.post("/api/ledger/tax-returns", {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert filed.status_code == 201, filed.content
    body = filed.json()
    assert (body["net_payable"], body["has_difference"], body["filed_by"]) == ("20.00", False, accountant.email)
    assert {b["box"]: b["filed"] for b in body["boxes"]}["1"] == "20.00"
    again = api.post("/api/ledger/tax-returns", {"date_from": "2026-03-01", "date_to": "2026-03-31"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert_error(api.post("/api/ledger/tax-returns", {"date_from": "2026-03-15", "date_to": "2026-04-15"}), 400,
                 "tax_return.overlaps")
    sell(books, "50.00")
    detail = api.get(f"/api/ledger/tax-returns/{body['id']}").json()
    box_1 = next(b for b in detail["boxes"] if b["box"] == "1")
    assert (box_1["name"], box_1["filed"], box_1["current"], box_1["difference"]) == (BOX_1, "20.00", "30.00", "10.00")
    assert (detail["net_payable_difference"], detail["has_difference"]) == ("10.00", True)
    listed = api.get("/api/ledger/tax-returns").json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    report = api.get("/api/ledger/tax-return?date_from=2026-03-01&date_to=2026-03-31").json()
    assert (report["filed_return_id"], report["net_payable"]) == (body["id"], "30.00")
    assert next(b for b in report["boxes"] if b["box"] == "5")["is_total"] is True


def test_the_api_sets_the_frequency_and_the_boxes(books, accountant):
    api = ApiClient(accountant, books)
    assert api.get("/api/ledger/tax-settings").json()["filing_frequency"] == "quarterly"
    changed = api.put("/api/ledger/tax-settings", {"filing_frequency": "monthly"})
    assert changed.status_code == 200 and changed.json()["filing_frequency"] == "monthly"
    named = api.put("/api/ledger/tax-boxes/10", {"name": "Eco-tax due"})
    assert named.status_code == 200 and named.json() == {"box": "10", "name": "Eco-tax due", "total_of": ""}
    assert [b["box"] for b in api.get("/api/ledger/tax-boxes").json()] == [str(n) for n in range(1, 11)]
    assert_error(api.put("/api/ledger/tax-boxes/4", {"name": "x", "total_of": "5-6"}), 400, "tax_box.invalid_total")


def test_the_api_refuses_filing_without_the_permission(books):
    auditor = member(books, "auditor", username="auditor@acme.test")
    api = ApiClient(auditor, books)
    assert_error(api.post("/api/ledger/tax-returns", {"date_from": "2026-03-01", "date_to": "2026-03-31"}), 403)
    assert_error(api.put("/api/ledger/tax-settings", {"filing_frequency": "monthly"}), 403)
    assert not TaxReturn.objects.for_company(books).exists()
    assert api.get("/api/ledger/tax-returns").status_code == 200


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:tax_box_list"),
])


def test_naming_a_box_on_the_page(books, accountant, client_for):
    client = client_for(accountant)
    content = client.get("/ledger/tax-boxes/").content.decode()
    assert BOX_1 in content and "3-4" in content
    response = client.post("/ledger/tax-boxes/", {"box": "10", "name": "Eco-tax due", "total_of": ""})
    assert response.status_code == 302 and TaxBox.objects.get(company=books, box="10").name == "Eco-tax due"
    response = client.post("/ledger/tax-boxes/", {"box": "11", "name": "Bad", "total_of": "12+1"})
    assert response.status_code == 200 and b"come before" in response.content
    assert not TaxBox.objects.filter(company=books, box="11").exists()
    auditor = member(books, "auditor", username="auditor@acme.test")
    response = client_for(auditor).post("/ledger/tax-boxes/", {"box": "1", "name": "Renamed"})
    assert response.status_code == 403 and TaxBox.objects.get(company=books, box="1").name == BOX_1
    content = client_for(accountant).get("/ledger/tax-return/lines/?box=1&date_from=2026-03-01&date_to=2026-03-31")
    assert BOX_1.encode() in content.content
