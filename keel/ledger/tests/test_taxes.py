"""Taxes: tax codes, the tax computation, posting taxed documents, the tax return."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.tests.factories import CompanyFactory, member
from keel.ledger.models import Account, Entry, TaxCode
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.services.taxes import (
    DocumentLine,
    compute_taxes,
    create_tax_code,
    ensure_default_tax_codes,
    set_tax_code_active,
    tax_line_inputs,
    update_tax_code,
)
from keel.ledger.tax_reports import get_tax_return, list_box_lines, tax_return_csv
from keel.ledger.tests.factories import party_for, set_up_books
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal
MARCH_1, MARCH_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def gross_code(company):
    return create_tax_code(actor=None, company=company, code="S20G", name="Standard, prices with VAT", rate="20",
                           price_included=True, base_box="6", tax_box="1", check_permission=False)


def post_document(company, lines, *, counterpart="1200", accounts="4000", rounding="line", day=MARCH_1, journal="SAL"):
    kind = "purchase" if journal == "PUR" else "sales"
    computation = compute_taxes(kind=kind, company=company, lines=lines, rounding=rounding)
    return post_entry(actor=None, company=company, journal=journal, date=day, check_permission=False,
                      lines=tax_line_inputs(computation, accounts=accounts, counterpart=counterpart, party=party_for(company, counterpart)))


# -- tax codes -----------------------------------------------------------------------------


def test_the_chart_brings_the_default_tax_codes_once(books):
    codes = {t.code: t for t in TaxCode.objects.for_company(books)}
    assert set(codes) == {"S20", "S5", "S0", "SEX", "P20", "P5", "P0", "PEX"}
    assert (codes["S20"].rate, codes["S20"].kind, codes["S20"].base_box, codes["S20"].tax_box) == (
        D("20"), "sales", "6", "1")
    assert (codes["P20"].kind, codes["P20"].base_box, codes["P20"].tax_box) == ("purchase", "7", "4")
    ensure_default_tax_codes(books)
    set_up_books(books)
    assert TaxCode.objects.for_company(books).count() == 8


def test_creating_a_tax_code_records_it_and_defaults_its_account_to_the_role(books, accountant):
    tax_code = create_tax_code(actor=accountant, company=books, code="P13", name="Purchases 13.5 %", rate="13.5",
                               kind="purchase", base_box="7", tax_box="4")
    assert tax_code.rate == D("13.5") and tax_code.account is None
    assert Activity.objects.filter(company=books, verb="ledger.tax_code_changed", subject_id=str(tax_code.pk)).exists()
    computation = compute_taxes(kind="purchase", company=books, lines=[DocumentLine(amount="200.00", tax_codes=["P13"])])
    lines = tax_line_inputs(computation, accounts="6200", counterpart="2100", party=party_for(books, "2100"))
    tax_line = next(line for line in lines if line.tax_role == "tax")
    assert (tax_line.debit, tax_line.credit) == (D("27.00"), 0)
    assert Account.objects.get(pk=tax_line.account).code == "1300"  # the chart's tax deductible account


@pytest.mark.parametrize(("values", "code", "field"), [
    ({"code": "S20"}, "tax_code.duplicate_code", "code"),
    ({"code": ""}, "tax_code.invalid", "code"),
    ({"rate": "abc"}, "tax_code.invalid", "rate"),
    ({"rate": "-1"}, "tax_code.invalid", "rate"),
    ({"rate": "1.0000001"}, "tax_code.invalid", "rate"),
    ({"kind": "import"}, "tax_code.invalid", "kind"),
    ({"account": "9999"}, "tax_code.invalid", "account"),
    ({"base_box": "x" * 21}, "tax_code.invalid", "base_box"),
])
def test_bad_tax_codes_are_refused(books, accountant, values, code, field):
    before = TaxCode.objects.for_company(books).count()
    with pytest.raises(ValidationFailed) as refused:
        create_tax_code(actor=accountant, company=books, **{"code": "NEW", "name": "New", "rate": "10", **values})
    assert refused.value.code == code and field in refused.value.fields
    assert TaxCode.objects.for_company(books).count() == before


def test_changing_and_deactivating_a_tax_code(books, accountant):
    tax_code = TaxCode.objects.get(company=books, code="S5")
    update_tax_code(actor=accountant, tax_code=tax_code, rate="7", account="2210", name="Reduced 7 %")
    tax_code.refresh_from_db()
    assert (tax_code.rate, tax_code.account.code, tax_code.name) == (D("7"), "2210", "Reduced 7 %")
    with pytest.raises(ValidationFailed) as refused:
        update_tax_code(actor=accountant, tax_code=tax_code, kind="purchase")
    assert refused.value.code == "tax_code.invalid"
    set_tax_code_active(actor=accountant, tax_code=tax_code, is_active=False)
    with pytest.raises(ValidationFailed) as inactive:
        compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10", tax_codes=["S5"])])
    assert inactive.value.code == "tax_code.inactive"
    verbs = list(Activity.objects.filter(company=books, verb="ledger.tax_code_changed")
                 .order_by("id").values_list("data", flat=True))
    assert [v["action"] for v in verbs] == ["changed", "deactivated"]


def test_tax_codes_need_the_tax_permission(books, clerk):
    with pytest.raises(PermissionDenied):
        create_tax_code(actor=clerk, company=books, code="X", name="X", rate="1")
    tax_code = TaxCode.objects.get(company=books, code="S20")
    with pytest.raises(PermissionDenied):
        update_tax_code(actor=member(books, "auditor"), tax_code=tax_code, rate="0")
    tax_code.refresh_from_db()
    assert tax_code.rate == D("20") and not TaxCode.objects.filter(company=books, code="X").exists()


# -- the computation -----------------------------------------------------------------------


def test_price_excluded_lines_add_the_tax(books):
    computation = compute_taxes(kind="sales", company=books, lines=[
        DocumentLine(amount="100.00", tax_codes=["S20"]),
        DocumentLine(quantity="3", unit_price="9.99", tax_codes=["S5"]),
        DocumentLine(amount="40.00", tax_codes=["SEX"]),
    ])
    assert [(line.net, line.tax, line.gross) for line in computation.lines] == [
        (D("100.00"), D("20.00"), D("120.00")), (D("29.97"), D("1.50"), D("31.47")), (D("40.00"), D("0.00"), D("40.00"))]
    assert [(t.tax_code.code, t.base, t.tax) for t in computation.totals] == [
        ("S20", D("100.00"), D("20.00")), ("S5", D("29.97"), D("1.50")), ("SEX", D("40.00"), D("0.00"))]
    assert (computation.net_total, computation.tax_total, computation.gross_total) == (
        D("169.97"), D("21.50"), D("191.47"))


def test_price_included_lines_take_the_tax_out_of_the_gross(books):
    gross_code(books)
    computation = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10.00", tax_codes=["S20G"])])
    [line] = computation.lines
    assert (line.net, line.tax, line.gross) == (D("8.33"), D("1.67"), D("10.00"))


def test_line_and_document_rounding_differ_and_document_rounds_the_sum(books):
    lines = [DocumentLine(amount="0.02", tax_codes=["S20"]) for _ in range(3)]  # 0.004 tax each
    by_line = compute_taxes(kind="sales", company=books, lines=lines, rounding="line")
    by_document = compute_taxes(kind="sales", company=books, lines=lines, rounding="document")
    assert by_line.tax_total == D("0.00")
    assert by_document.tax_total == D("0.01")  # round(0.012)
    assert [line.tax for line in by_document.lines] == [D("0.00"), D("0.01"), D("0.00")]
    assert by_document.gross_total == D("0.07")


def test_several_codes_on_a_line_are_each_computed_on_the_base(books):
    create_tax_code(actor=None, company=books, code="LOCAL", name="Local 2 %", rate="2", check_permission=False)
    computation = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="50.00", tax_codes=["S20", "LOCAL"])])
    assert [(t.tax_code.code, t.tax) for t in computation.lines[0].taxes] == [("S20", D("10.00")), ("LOCAL", D("1.00"))]
    with pytest.raises(ValidationFailed) as refused:
        tax_line_inputs(computation, accounts="4000")
    assert refused.value.code == "tax.several_codes_on_line"


def test_a_credit_note_is_negative_and_posts_the_other_way(books):
    entry = post_document(books, [DocumentLine(amount="-50.00", tax_codes=["S20"])])
    lines = {(line.account.code, line.tax_role): (line.debit, line.credit) for line in entry.lines.select_related("account")}
    assert lines == {("4000", "base"): (D("50.00"), 0), ("2200", "tax"): (D("10.00"), 0), ("1200", ""): (0, D("60.00"))}


@pytest.mark.parametrize(("line", "code", "field"), [
    ({"amount": "10", "tax_codes": ["NOPE"]}, "tax_code.not_found", "lines[0].tax_codes[0]"),
    ({"amount": "ten", "tax_codes": ["S20"]}, "money.not_a_number", "lines[0].amount"),
    ({"amount": "10.001", "tax_codes": ["S20"]}, "money.too_many_decimals", "lines[0].amount"),
    ({"amount": "NaN", "tax_codes": ["S20"]}, "money.not_a_number", "lines[0].amount"),
    ({"amount": "1e20", "tax_codes": ["S20"]}, "money.not_a_number", "lines[0].amount"),  # no exponents
    ({"amount": "100000000000", "tax_codes": ["S20"]}, "money.too_large", "lines[0].amount"),
    ({"amount": "1,005", "tax_codes": ["S20"]}, "money.ambiguous", "lines[0].amount"),
    ({"tax_codes": ["S20"]}, "tax.amount_missing", "lines[0].amount"),
    ({"amount": "10", "tax_codes": ["S20", "S20"]}, "tax.duplicate_code", "lines[0].tax_codes"),
])
def test_bad_document_lines_are_refused_naming_the_field(books, line, code, field):
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(kind="sales", company=books, lines=[line])
    assert refused.value.code == code and field in refused.value.fields


def test_another_companys_tax_code_is_unknown(books, other_books):
    theirs = TaxCode.objects.get(company=other_books, code="S20")
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10", tax_codes=[theirs.pk])])
    assert refused.value.code == "tax_code.not_found"


def test_rounding_follows_the_currency_decimals(db):
    company = set_up_books(CompanyFactory(code="yen", base_currency_id="JPY"))
    computation = compute_taxes(kind="sales", company=company, lines=[DocumentLine(amount="1005", tax_codes=["S5"])])
    assert computation.lines[0].tax == D("50")  # 50.25 -> 50 yen
    with pytest.raises(ValidationFailed):
        compute_taxes(kind="sales", company=company, lines=[DocumentLine(amount="10.5", tax_codes=["S5"])])


# -- the tax return ------------------------------------------------------------------------


def test_the_return_adds_posted_sales_and_purchases_per_box(books):
    post_document(books, [DocumentLine(amount="100.00", tax_codes=["S20"]), DocumentLine(amount="50.00", tax_codes=["S0"])])
    post_document(books, [DocumentLine(amount="-10.00", tax_codes=["S20"])], day=dt.date(2026, 3, 20))
    post_document(books, [DocumentLine(amount="200.00", tax_codes=["P20"])], accounts="6200", counterpart="2100",
                  journal="PUR")
    post_document(books, [DocumentLine(amount="999.00", tax_codes=["S20"])], day=dt.date(2026, 4, 1))  # outside
    report = get_tax_return(books, MARCH_1, MARCH_31)
    # Every UK box, named; 3 = 1 + 2 and 5 = 3 - 4 are totals.
    assert {box.box: box.amount for box in report.boxes} == {
        "1": D("18.00"), "2": 0, "3": D("18.00"), "4": D("40.00"), "5": D("-22.00"), "6": D("140.00"),
        "7": D("200.00"), "8": 0, "9": 0}
    assert report.net_payable == D("-22.00")
    assert report.boxes[0].name == "VAT due in the period on sales and other outputs"
    assert [(f.tax_code.code, f.base, f.tax) for f in report.codes] == [
        ("P20", D("200.00"), D("40.00")), ("S0", D("50.00"), D("0")), ("S20", D("90.00"), D("18.00"))]
    drill = list_box_lines(books, "1", MARCH_1, MARCH_31)
    assert [(line.credit, line.debit) for line in drill] == [(D("20.00"), 0), (0, D("2.00"))]
    rows = list(csv.DictReader(io.StringIO(tax_return_csv(report))))
    assert {"box": "1", "tax_code": "", "role": "total", "amount": "18.00"}.items() <= rows[1].items()


def test_a_reversed_entry_leaves_the_return(books):
    from keel.ledger.services.posting import reverse_entry

    entry = post_document(books, [DocumentLine(amount="100.00", tax_codes=["S20"])])
    reverse_entry(actor=None, entry=entry, date=dt.date(2026, 3, 5), check_permission=False)
    assert get_tax_return(books, MARCH_1, MARCH_31).box("1") == 0


def test_lines_without_a_tax_code_do_not_count(books):
    post_entry(actor=None, company=books, journal="GEN", date=MARCH_1, check_permission=False, lines=[
        LineInput(account="1400", debit=D("500")), LineInput(account="4900", credit=D("500"))])
    report = get_tax_return(books, MARCH_1, MARCH_31)
    assert all(box.amount == 0 for box in report.boxes) and report.codes == []


def test_a_range_ending_before_it_starts_is_refused(books):
    with pytest.raises(ValidationFailed) as refused:
        get_tax_return(books, MARCH_31, MARCH_1)
    assert refused.value.code == "report.invalid_range"


# -- pages ---------------------------------------------------------------------------------


def _tax_code_pk(company, owner):
    set_up_books(company)
    return {"pk": TaxCode.objects.get(company=company, code="S20").pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:tax_code_list"),
    Page("ledger:tax_code_create", make=None, denied_role="auditor"),
    Page("ledger:tax_code_edit", make=_tax_code_pk, denied_role="auditor"),
    Page("ledger:tax_return", query="?date_from=2026-03-01&date_to=2026-03-31"),
    Page("ledger:tax_return_box", query="?box=1&date_from=2026-03-01&date_to=2026-03-31"),
])


def test_creating_a_tax_code_on_the_page_and_a_bad_rate(books, owner, client_for):
    client = client_for(owner)
    response = client.post("/ledger/tax-codes/new/", {"code": "S12", "name": "Twelve", "rate": "12", "kind": "sales",
                                                      "base_box": "6", "tax_box": "1"})
    assert response.status_code == 302 and TaxCode.objects.get(company=books, code="S12").rate == D("12")
    response = client.post("/ledger/tax-codes/new/", {"code": "S13", "name": "Bad", "rate": "abc", "kind": "sales"})
    assert response.status_code == 200 and not TaxCode.objects.filter(company=books, code="S13").exists()
    response = client.post("/ledger/tax-codes/new/", {"code": "S12", "name": "Again", "rate": "1", "kind": "sales"})
    assert b"exists already" in response.content
    assert b"S12" in client.get("/ledger/tax-codes/?q=S12").content
    assert b"No tax code matches" in client.get("/ledger/tax-codes/?q=zzz").content


def test_editing_a_tax_code_on_the_page(books, owner, client_for):
    tax_code = TaxCode.objects.get(company=books, code="P5")
    response = client_for(owner).post(f"/ledger/tax-codes/{tax_code.pk}/edit/", {
        "name": "Reduced purchases", "rate": "6", "base_box": "7", "tax_box": "4", "account": "1300"})
    assert response.status_code == 302
    tax_code.refresh_from_db()
    assert (tax_code.rate, tax_code.account.code, tax_code.is_active) == (D("6"), "1300", False)


def test_the_return_page_drills_down_to_the_entries(books, owner, client_for):
    entry = post_document(books, [DocumentLine(amount="100.00", tax_codes=["S20"])])
    client = client_for(owner)
    content = client.get("/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "Box 1" in content and "20.00" in content and "/ledger/tax-return/lines/?box=1&amp;" in content
    content = client.get("/ledger/tax-return/lines/?box=1&date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert f"/ledger/entries/{entry.pk}/" in content and entry.number in content
    download = client.get("/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31&format=csv")
    # The exports share the other reports' machinery: each box with its name, the parts behind it.
    assert download["Content-Type"].startswith("text/csv")
    assert b"\n1,VAT due in the period on sales and other outputs,20.00\r" in download.content
    assert b",  S20 tax,20.00\r" in download.content and b",Net tax payable (negative: to reclaim),20.00" in download.content
    assert b"No lines behind" in client.get("/ledger/tax-return/lines/?box=4&date_from=2026-03-01&date_to=2026-03-31").content


# -- API -----------------------------------------------------------------------------------


def test_the_api_lists_creates_changes_tax_codes(books, owner):
    api = ApiClient(owner, books)
    items = api.get("/api/ledger/tax-codes?kind=purchase").json()["items"]
    assert [item["code"] for item in items] == ["P0", "P20", "P5", "PEX"]
    created = api.post("/api/ledger/tax-codes", {"code": "S7", "name": "Seven", "rate": "7", "account": "2210"})
    assert created.status_code == 201 and created.json()["account"] == "2210"
    tax_code_id = created.json()["id"]
    changed = api.patch(f"/api/ledger/tax-codes/{tax_code_id}", {"is_active": False, "rate": "7.5"})
    assert changed.status_code == 200 and changed.json()["is_active"] is False and changed.json()["rate"] in ("7.5", "7.500000")
    assert api.get(f"/api/ledger/tax-codes/{tax_code_id}").json()["code"] == "S7"
    assert_error(api.post("/api/ledger/tax-codes", {"code": "S7", "name": "Dup", "rate": "1"}), 400,
                 "tax_code.duplicate_code")
    assert_error(api.patch(f"/api/ledger/tax-codes/{tax_code_id}", {"rate": "x"}), 400, "tax_code.invalid")


def test_the_api_computes_taxes_and_refuses_bad_input(books, owner):
    api = ApiClient(owner, books)
    response = api.post("/api/ledger/taxes/compute", {"kind": "sales", "rounding": "document", "lines": [
        {"amount": "100.00", "tax_codes": ["S20"]}, {"quantity": "2", "unit_price": "5.25", "tax_codes": ["S5"]}]})
    body = response.json()
    assert response.status_code == 200, body
    assert (D(body["net_total"]), D(body["tax_total"]), D(body["gross_total"])) == (D("110.50"), D("20.53"), D("131.03"))
    assert [t["tax_code"] for t in body["totals"]] == ["S20", "S5"]
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "sales", "lines": [{"amount": "1", "tax_codes": ["NOPE"]}]}), 400,
                 "tax_code.not_found")
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "sales", "lines": [{"amount": "1.001", "tax_codes": ["S20"]}]}), 400,
                 "money.too_many_decimals")
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "sales", "lines": [{"amount": "abc", "tax_codes": ["S20"]}]}), 400,
                 "money.not_a_number")
    yen = api.post("/api/ledger/taxes/compute", {"kind": "sales", "currency": "JPY", "lines": [{"amount": "1001", "tax_codes": ["S20"]}]})
    assert (yen.json()["currency"], D(yen.json()["tax_total"])) == ("JPY", D(200))
    assert_error(api.post("/api/ledger/taxes/compute", {"kind": "sales", "currency": "QQQ", "lines": [{"amount": "1", "tax_codes": ["S20"]}]}),
                 400, "currency.unknown")


def test_the_api_tax_return(books, owner):
    post_document(books, [DocumentLine(amount="100.00", tax_codes=["S20"])])
    api = ApiClient(owner, books)
    body = api.get("/api/ledger/tax-return?date_from=2026-03-01&date_to=2026-03-31").json()
    boxes = {box["box"]: D(box["amount"]) for box in body["boxes"]}
    assert boxes["1"] == D("20") and boxes["6"] == D("100") and boxes["4"] == 0
    assert_error(api.get("/api/ledger/tax-return?date_from=2026-03-31&date_to=2026-03-01"), 400, "report.invalid_range")


def test_the_api_needs_the_tax_permissions(books, clerk):
    api = ApiClient(clerk, books)
    assert api.get("/api/ledger/tax-codes").status_code == 403
    auditor = ApiClient(member(books, "auditor"), books)
    assert auditor.get("/api/ledger/tax-codes").status_code == 200
    assert auditor.post("/api/ledger/tax-codes", {"code": "Z", "name": "Z", "rate": "1"}).status_code == 403
    assert not TaxCode.objects.filter(company=books, code="Z").exists()
    assert not Entry.objects.filter(company=books).exists()


# -- documents in another currency ------------------------------------------------------------


def test_a_document_in_another_currency_rounds_in_its_decimals(books):
    computation = compute_taxes(kind="sales", company=books, currency="jpy",
                                lines=[DocumentLine(amount="1001", tax_codes=["S20"])])
    assert (computation.currency, computation.tax_total, computation.gross_total) == ("JPY", Decimal(200), Decimal(1201))
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(kind="sales", company=books, currency="JPY", lines=[DocumentLine(amount="10.5", tax_codes=["S20"])])
    assert refused.value.code == "money.too_many_decimals"
    with pytest.raises(ValidationFailed) as unknown:
        compute_taxes(kind="sales", company=books, currency="XXQ", lines=[DocumentLine(amount="10", tax_codes=["S20"])])
    assert (unknown.value.code, unknown.value.fields) == ("currency.unknown", {"currency": [unknown.value.message]})


def test_a_foreign_document_posts_in_its_currency_at_its_rate_and_balances_in_both(books):
    computation = compute_taxes(kind="sales", company=books, currency="USD", lines=[
        DocumentLine(amount="33.33", tax_codes=["S20"]), DocumentLine(amount="33.33", tax_codes=["S20"]),
        DocumentLine(amount="33.34", tax_codes=["S20"])])
    lines = tax_line_inputs(computation, accounts="4000", counterpart="1200", rate="0.8333", party=party_for(books, "1200"))
    entry = post_entry(actor=None, company=books, journal="SAL", date=dt.date(2026, 3, 10), lines=lines,
                       check_permission=False)
    posted = list(entry.lines.select_related("account").order_by("position"))
    assert {line.currency_id for line in posted} == {"USD"}
    assert sum((line.amount_currency for line in posted), Decimal(0)) == 0
    assert sum((line.debit for line in posted), Decimal(0)) == sum((line.credit for line in posted), Decimal(0))
    receivable = next(line for line in posted if line.account.code == "1200")
    assert receivable.amount_currency == Decimal("120.01")  # 100.00 + 3 x 6.67 tax, rounded per line
    assert sum(line.credit for line in posted if line.account.code == "4000") == Decimal("83.32")  # 27.77 x 2 + 27.78
    assert receivable.debit == Decimal("99.99")  # takes the conversion's rounding (100.0083 at the rate)
    assert get_tax_return(books, dt.date(2026, 3, 1), dt.date(2026, 3, 31)).box("1") == next(
        line.credit for line in posted if line.tax_role == "tax")


def test_a_foreign_document_needs_its_rate_and_a_home_one_takes_none(books):
    foreign = compute_taxes(kind="sales", company=books, currency="USD", lines=[DocumentLine(amount="10", tax_codes=["S20"])])
    with pytest.raises(ValidationFailed) as refused:
        tax_line_inputs(foreign, accounts="4000", counterpart="1200", party=party_for(books, "1200"))
    assert refused.value.code == "rate.not_found"
    home = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10", tax_codes=["S20"])])
    with pytest.raises(ValidationFailed) as needless:
        tax_line_inputs(home, accounts="4000", counterpart="1200", rate="1.1", party=party_for(books, "1200"))
    assert needless.value.code == "tax.rate_not_needed"
