"""Tax groups: a line taxed with several taxes (Canada GST 5 % + Quebec QST 9.975 %) posts with
one base line and one tax line per tax, and the return counts it under each tax."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.exceptions import ValidationFailed
from keel.ledger.models import Entry, Line, TaxCode, TaxCodeComponent
from keel.ledger.services.posting import post_entry, reverse_entry
from keel.ledger.services.taxes import (
    DocumentLine,
    compute_taxes,
    create_tax_code,
    set_tax_code_active,
    tax_line_inputs,
    update_tax_code,
)
from keel.ledger.tax_reports import get_tax_return, list_box_lines, tax_return_csv
from keel.ledger.tests.factories import party_for

pytestmark = pytest.mark.django_db

D = Decimal
MARCH_1, MARCH_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def canada(company, *, price_included=False):
    """GST 5 % (return boxes 101 base / 105 tax, the role account) and QST 9.975 % (boxes 205 / 209,
    account 2210), and the group GSTQST of both."""
    create_tax_code(actor=None, company=company, code="GST", name="GST 5 %", rate="5", base_box="101",
                    tax_box="105", check_permission=False)
    create_tax_code(actor=None, company=company, code="QST", name="QST 9.975 %", rate="9.975", account="2210",
                    base_box="205", tax_box="209", check_permission=False)
    return create_tax_code(actor=None, company=company, code="GSTQST", name="GST + QST", components=["GST", "QST"],
                           price_included=price_included, check_permission=False)


def post_document(company, lines, *, rounding="line", day=MARCH_1):
    computation = compute_taxes(kind="sales", company=company, lines=lines, rounding=rounding)
    return post_entry(actor=None, company=company, journal="SAL", date=day, check_permission=False,
                      lines=tax_line_inputs(computation, accounts="4000", counterpart="1200", party=party_for(company, "1200")))


def posted(entry):
    return sorted((line.account.code, line.tax_code.code if line.tax_code_id else "", line.tax_role, line.debit,
                   line.credit) for line in entry.lines.select_related("account", "tax_code"))


def written(company):
    return (TaxCode.objects.for_company(company).count(), TaxCodeComponent.objects.for_company(company).count(),
            Activity.objects.filter(company=company).count())


# -- computing and posting -----------------------------------------------------------------


def test_a_group_taxes_the_line_with_each_component_on_the_same_base(books):
    canada(books)
    computation = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="100.00", tax_codes=["GSTQST"])])
    [line] = computation.lines
    assert (line.net, line.tax, line.gross) == (D("100.00"), D("14.98"), D("114.98"))
    assert [(t.tax_code.code, t.group.code, t.base, t.tax) for t in line.taxes] == [
        ("GST", "GSTQST", D("100.00"), D("5.00")), ("QST", "GSTQST", D("100.00"), D("9.98"))]
    assert [(t.tax_code.code, t.base, t.tax) for t in computation.totals] == [
        ("GST", D("100.00"), D("5.00")), ("QST", D("100.00"), D("9.98"))]


def test_a_price_included_group_takes_both_taxes_out_of_the_gross(books):
    canada(books, price_included=True)
    [line] = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="114.98", tax_codes=["GSTQST"])]).lines
    assert (line.net, line.tax, line.gross) == (D("100.00"), D("14.98"), D("114.98"))


def test_a_group_line_posts_one_base_line_and_a_tax_line_per_component(books):
    canada(books)
    entry = post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"]),
                                  DocumentLine(amount="40.00", tax_codes=["GST"])])
    assert posted(entry) == [
        ("1200", "", "", D("156.98"), 0),
        ("2200", "GST", "tax", 0, D("7.00")),
        ("2210", "QST", "tax", 0, D("9.98")),
        ("4000", "GST", "base", 0, D("40.00")),
        ("4000", "GSTQST", "base", 0, D("100.00")),
    ]


def test_document_rounding_rounds_each_components_sum_once_across_group_and_plain_lines(books):
    canada(books)
    lines = [DocumentLine(amount="0.10", tax_codes=["GSTQST"]) for _ in range(3)] + [
        DocumentLine(amount="0.10", tax_codes=["GST"])]
    by_line = compute_taxes(kind="sales", company=books, lines=lines, rounding="line")
    by_document = compute_taxes(kind="sales", company=books, lines=lines, rounding="document")
    # GST 0.005 a line; QST 0.009975 a line.
    assert [(t.tax_code.code, t.tax) for t in by_line.totals] == [("GST", D("0.04")), ("QST", D("0.03"))]
    assert [(t.tax_code.code, t.tax) for t in by_document.totals] == [("GST", D("0.02")), ("QST", D("0.03"))]
    assert sum((line.tax for line in by_document.lines), D(0)) == by_document.tax_total == D("0.05")


def test_several_independent_codes_on_a_line_are_still_refused_pointing_to_a_group(books):
    canada(books)
    computation = compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="50.00", tax_codes=["GST", "QST"])])
    with pytest.raises(ValidationFailed) as refused:
        tax_line_inputs(computation, accounts="4000")
    assert refused.value.code == "tax.several_codes_on_line"
    assert "GST and QST" in refused.value.message and "tax group" in refused.value.message
    assert TaxCode.objects.for_company(books).count() == 11  # nothing made up


@pytest.mark.parametrize(("codes", "code"), [
    (["GSTQST", "GST"], "tax.duplicate_code"),
    (["GSTQST", "S20G"], "tax.mixed_inclusion"),
])
def test_a_group_with_its_own_component_or_another_inclusion_on_the_line_is_refused(books, codes, code):
    canada(books)
    create_tax_code(actor=None, company=books, code="S20G", name="Gross", rate="20", price_included=True,
                    check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10", tax_codes=codes)])
    assert refused.value.code == code and "lines[0].tax_codes" in refused.value.fields


def test_a_group_whose_component_was_deactivated_is_refused(books):
    canada(books)
    set_tax_code_active(actor=None, tax_code=TaxCode.objects.get(company=books, code="QST"), is_active=False,
                        check_permission=False)
    with pytest.raises(ValidationFailed) as refused:
        compute_taxes(kind="sales", company=books, lines=[DocumentLine(amount="10", tax_codes=["GSTQST"])])
    assert refused.value.code == "tax_code.inactive" and "QST" in refused.value.message
    assert "lines[0].tax_codes[0]" in refused.value.fields


# -- the tax return ------------------------------------------------------------------------


def test_the_return_counts_a_group_lines_base_under_each_components_box(books):
    canada(books)
    post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"]),
                          DocumentLine(amount="40.00", tax_codes=["GST"])])
    post_document(books, [DocumentLine(amount="-20.00", tax_codes=["GSTQST"])], day=dt.date(2026, 3, 20))
    report = get_tax_return(books, MARCH_1, MARCH_31)
    boxes = {box.box: box.amount for box in report.boxes}
    assert {name: boxes[name] for name in ("101", "105", "205", "209")} == {
        "101": D("120.00"), "105": D("6.00"), "205": D("80.00"), "209": D("7.98")}
    assert [(f.tax_code.code, f.base, f.tax) for f in report.codes] == [
        ("GST", D("120.00"), D("6.00")), ("QST", D("80.00"), D("7.98"))]
    base_101 = next(box for box in report.boxes if box.box == "101")
    assert [(p.tax_code.code, p.role, p.amount) for p in base_101.parts] == [
        ("GST", "base", D("40.00")), ("GSTQST", "base", D("80.00"))]
    rows = tax_return_csv(report)
    assert "205,GSTQST,base,80.00" in rows and "209,QST,tax,7.98" in rows


def test_every_box_is_the_sum_of_its_drill_down_lines(books):
    canada(books)
    post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"]),
                          DocumentLine(amount="40.00", tax_codes=["GST"])])
    report = get_tax_return(books, MARCH_1, MARCH_31)
    for box in report.boxes:
        lines = list_box_lines(books, box.box, MARCH_1, MARCH_31)
        assert sum((line.credit - line.debit for line in lines), D(0)) == box.amount, box.box
    group = TaxCode.objects.get(company=books, code="GSTQST")
    drill = list_box_lines(books, "205", MARCH_1, MARCH_31, tax_code=group)
    assert [(line.tax_code.code, line.tax_role, line.credit) for line in drill] == [("GSTQST", "base", D("100.00"))]
    assert list(list_box_lines(books, "105", MARCH_1, MARCH_31, tax_code=group)) == []


def test_components_sharing_a_base_box_count_the_base_once(books):
    # A VAT and an eco-tax both report their base in box 6: one sale is one base. (Box 3 of the
    # UK return is a total, so the eco-tax has a box of its own.)
    create_tax_code(actor=None, company=books, code="ECO", name="Eco-tax 1 %", rate="1", base_box="6", tax_box="10",
                    check_permission=False)
    create_tax_code(actor=None, company=books, code="S20ECO", name="VAT + eco-tax", components=["S20", "ECO"],
                    check_permission=False)
    post_document(books, [DocumentLine(amount="200.00", tax_codes=["S20ECO"])])
    report = get_tax_return(books, MARCH_1, MARCH_31)
    assert (report.box("6"), report.box("1"), report.box("10")) == (D("200.00"), D("40.00"), D("2.00"))
    assert [line.credit for line in list_box_lines(books, "6", MARCH_1, MARCH_31)] == [D("200.00")]
    assert [(f.tax_code.code, f.base, f.tax) for f in report.codes] == [
        ("ECO", D("200.00"), D("2.00")), ("S20", D("200.00"), D("40.00"))]


def test_a_reversed_group_entry_leaves_the_return(books):
    canada(books)
    entry = post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"])])
    reverse_entry(actor=None, entry=entry, date=dt.date(2026, 3, 5), check_permission=False)
    report = get_tax_return(books, MARCH_1, MARCH_31)
    assert all(report.box(name) == 0 for name in ("101", "105", "205", "209"))


def test_a_purchase_group_counts_what_was_bought_and_deducted(books):
    create_tax_code(actor=None, company=books, code="PQST", name="QST on purchases", rate="9.975", kind="purchase",
                    base_box="7", tax_box="4Q", check_permission=False)
    create_tax_code(actor=None, company=books, code="PGSTQST", name="GST + QST on purchases", kind="purchase",
                    components=["P5", "PQST"], check_permission=False)
    computation = compute_taxes(kind="purchase", company=books, lines=[DocumentLine(amount="200.00", tax_codes=["PGSTQST"])])
    post_entry(actor=None, company=books, journal="PUR", date=MARCH_1, check_permission=False,
               lines=tax_line_inputs(computation, accounts="6200", counterpart="2100", party=party_for(books, "2100")))
    report = get_tax_return(books, MARCH_1, MARCH_31)
    assert (report.box("7"), report.box("4"), report.box("4Q")) == (D("200.00"), D("10.00"), D("19.95"))


# -- creating and changing groups ----------------------------------------------------------


def test_creating_a_group_records_its_components(books, accountant):
    canada(books)
    group = TaxCode.objects.get(company=books, code="GSTQST")
    assert (group.is_group, group.rate, group.account_id, group.base_box, group.tax_box) == (True, 0, None, "", "")
    assert [link.component.code for link in group.component_links.all()] == ["GST", "QST"]
    activity = Activity.objects.get(company=books, verb="ledger.tax_code_changed", subject_id=str(group.pk))
    assert activity.data["components"] == ["GST", "QST"]


@pytest.mark.parametrize(("values", "code", "field"), [
    ({"components": ["GST"]}, "tax_code.group_too_small", "components"),
    ({"components": ["GST", "NOPE"]}, "tax_code.component_not_found", "components"),
    ({"components": ["GST", "GST"]}, "tax_code.duplicate_component", "components"),
    ({"components": ["GST", "P20"]}, "tax_code.group_mixed_kinds", "components"),
    ({"components": ["P20", "P5"]}, "tax_code.group_mixed_kinds", "components"),
    ({"components": ["GST", "GSTQST"]}, "tax_code.nested_group", "components"),
    ({"components": ["GST", "OLD"]}, "tax_code.component_inactive", "components"),
    ({"components": ["GST", "QST"], "rate": "14.975"}, "tax_code.invalid", "rate"),
    ({"components": ["GST", "QST"], "account": "2200"}, "tax_code.invalid", "account"),
    ({"components": ["GST", "QST"], "tax_box": "105"}, "tax_code.invalid", "tax_box"),
    ({"components": ["GST", "QST"], "code": "GSTQST"}, "tax_code.duplicate_code", "code"),
])
def test_bad_groups_are_refused_and_write_nothing(books, accountant, values, code, field):
    canada(books)
    old = create_tax_code(actor=None, company=books, code="OLD", name="Old", rate="1", check_permission=False)
    set_tax_code_active(actor=None, tax_code=old, is_active=False, check_permission=False)
    before = written(books)
    with pytest.raises(ValidationFailed) as refused:
        create_tax_code(actor=accountant, company=books, **{"code": "NEW", "name": "New", **values})
    assert refused.value.code == code and field in refused.value.fields
    assert written(books) == before


def test_a_group_cannot_contain_itself_nor_a_plain_code_become_a_group(books, accountant):
    group = canada(books)
    before = written(books)
    with pytest.raises(ValidationFailed) as itself:
        update_tax_code(actor=accountant, tax_code=group, components=["GST", "GSTQST"])
    assert itself.value.code == "tax_code.group_contains_itself"
    with pytest.raises(ValidationFailed) as plain:
        update_tax_code(actor=accountant, tax_code=TaxCode.objects.get(company=books, code="S20"),
                        components=["GST", "QST"])
    assert plain.value.code == "tax_code.not_a_group"
    with pytest.raises(ValidationFailed) as rate:
        update_tax_code(actor=accountant, tax_code=group, rate="14.975")
    assert rate.value.code == "tax_code.invalid" and "rate" in rate.value.fields
    assert written(books) == before
    assert [link.component.code for link in group.component_links.all()] == ["GST", "QST"]


def test_a_groups_components_change_until_a_line_refers_to_it(books, accountant):
    group = canada(books)
    create_tax_code(actor=None, company=books, code="PST", name="PST 7 %", rate="7", base_box="301", tax_box="302",
                    check_permission=False)
    update_tax_code(actor=accountant, tax_code=group, components=["GST", "PST"], name="GST + PST")
    assert [link.component.code for link in group.component_links.all()] == ["GST", "PST"]
    changed = Activity.objects.filter(company=books, subject_id=str(group.pk)).latest("id")
    assert changed.data["changes"]["components"] == ["GST", "PST"]

    post_document(books, [DocumentLine(amount="10.00", tax_codes=["GSTQST"])])
    before = written(books)
    with pytest.raises(ValidationFailed) as refused:
        update_tax_code(actor=accountant, tax_code=group, components=["GST", "QST"])
    assert refused.value.code == "tax_code.group_in_use"
    assert written(books) == before
    assert [link.component.code for link in group.component_links.all()] == ["GST", "PST"]
    # Its other fields still change, and the same components in another order are no change of codes.
    update_tax_code(actor=accountant, tax_code=group, name="GST and PST", components=["PST", "GST"])
    assert [link.component.code for link in group.component_links.all()] == ["PST", "GST"]


# -- pages and API -------------------------------------------------------------------------


def test_creating_and_editing_a_group_on_the_pages(books, owner, client_for):
    canada(books)
    client = client_for(owner)
    response = client.post("/ledger/tax-codes/new/", {"code": "GQ", "name": "GST and QST", "kind": "sales",
                                                      "components": ["GST", "QST"]})
    assert response.status_code == 302, response.content.decode()[:3000]
    group = TaxCode.objects.get(company=books, code="GQ")
    assert group.is_group and [link.component.code for link in group.component_links.all()] == ["GST", "QST"]
    content = client.get("/ledger/tax-codes/?q=GQ").content.decode()
    assert "group of GST 5 % + QST 9.975 %" in content

    response = client.post("/ledger/tax-codes/new/", {"code": "BAD", "name": "Bad", "kind": "sales",
                                                      "components": ["GST", "P20"]})
    assert response.status_code == 200 and not TaxCode.objects.filter(company=books, code="BAD").exists()
    assert "a group&#x27;s codes are all of its kind" in response.content.decode()

    page = client.get(f"/ledger/tax-codes/{group.pk}/edit/").content.decode()
    assert "Tax group GQ" in page and 'name="rate"' not in page and 'name="account"' not in page
    assert 'value="QST" id="id_components_1" checked' in page and "QST – QST 9.975 % (sales, 9.975 %)" in page
    response = client.post(f"/ledger/tax-codes/{group.pk}/edit/", {"name": "GST and QST (Quebec)",
                                                                   "components": ["GST", "QST"], "is_active": "on"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "GST and QST (Quebec)" and group.is_active
    plain = TaxCode.objects.get(company=books, code="GST")
    assert 'name="components"' not in client.get(f"/ledger/tax-codes/{plain.pk}/edit/").content.decode()


def test_a_group_drills_down_from_the_return_page(books, owner, client_for):
    canada(books)
    entry = post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"])])
    client = client_for(owner)
    content = client.get("/ledger/tax-return/?date_from=2026-03-01&date_to=2026-03-31").content.decode()
    assert "GSTQST base: 100.00" in content and "tax_code=GSTQST" in content
    content = client.get("/ledger/tax-return/lines/?box=205&tax_code=GSTQST&date_from=2026-03-01"
                         "&date_to=2026-03-31").content.decode()
    assert entry.number in content and "GSTQST" in content


def test_the_api_creates_changes_and_computes_with_a_group(books, owner):
    canada(books)
    api = ApiClient(owner, books)
    created = api.post("/api/ledger/tax-codes", {"code": "GQ", "name": "GST and QST", "components": ["GST", "QST"]})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["is_group"], body["components"], D(body["rate"]), body["account"]) == (
        True, ["GST", "QST"], 0, None)
    listed = {item["code"]: item for item in api.get("/api/ledger/tax-codes").json()["items"]}
    assert listed["GSTQST"]["components"] == ["GST", "QST"] and listed["GST"]["components"] == []
    changed = api.patch(f"/api/ledger/tax-codes/{body['id']}", {"components": ["QST", "GST"]})
    assert changed.status_code == 200 and changed.json()["components"] == ["QST", "GST"]
    computed = api.post("/api/ledger/taxes/compute", {"kind": "sales", "lines": [{"amount": "100.00", "tax_codes": ["GQ"]}]}).json()
    assert [(t["tax_code"], t["group"], D(t["tax"])) for t in computed["lines"][0]["taxes"]] == [
        ("QST", "GQ", D("9.98")), ("GST", "GQ", D("5.00"))]
    assert_error(api.post("/api/ledger/tax-codes", {"code": "MIX", "name": "Mixed", "components": ["GST", "P20"]}),
                 400, "tax_code.group_mixed_kinds")
    assert_error(api.patch(f"/api/ledger/tax-codes/{body['id']}", {"components": None}), 400, "tax_code.invalid")
    assert_error(api.patch(f"/api/ledger/tax-codes/{body['id']}", {"components": ["GST", "GQ"]}), 400,
                 "tax_code.group_contains_itself")
    assert not TaxCode.objects.filter(company=books, code="MIX").exists()
    assert not Entry.objects.filter(company=books).exists() and not Line.objects.filter(company=books).exists()


def test_a_tax_line_posted_by_hand_on_a_group_code_is_refused(books):
    """The return reads a group's taxes from its components' lines; a tax line on the group
    itself would be in no box, so posting refuses it and writes nothing."""
    from keel.ledger.services import LineInput

    canada(books)
    before = Entry.objects.for_company(books).count()
    with pytest.raises(ValidationFailed) as refusal:
        post_entry(actor=None, company=books, journal="SAL", date=MARCH_1, check_permission=False, lines=[
            LineInput(account="1200", party=party_for(books, "1200"), debit=D("114.98")),
            LineInput(account="4000", credit=D("100.00"), tax_code="GSTQST", tax_role="base"),
            LineInput(account="2200", credit=D("14.98"), tax_code="GSTQST", tax_role="tax"),
        ])
    assert refusal.value.code == "line.tax_group_on_tax_line"
    assert "lines[2].tax_code" in refusal.value.fields
    assert Entry.objects.for_company(books).count() == before


def test_a_group_whose_components_change_while_posting_is_refused_and_nothing_is_written(books, accountant,
                                                                                        monkeypatch):
    from keel.ledger.services import posting

    canada(books)
    create_tax_code(actor=None, company=books, code="PST", name="PST 7 %", rate="7", check_permission=False)
    group = TaxCode.objects.get(company=books, code="GSTQST")
    validate = posting._Validator.entry

    def validate_then_change(self, *args, **kwargs):  # another user edits the group right after validation
        normalized = validate(self, *args, **kwargs)
        update_tax_code(actor=accountant, tax_code=group, components=["GST", "PST"])
        return normalized

    monkeypatch.setattr(posting._Validator, "entry", validate_then_change)
    lines_before = Line.objects.for_company(books).count()
    with pytest.raises(ValidationFailed) as refused:
        post_document(books, [DocumentLine(amount="100.00", tax_codes=["GSTQST"])])
    assert refused.value.code == "tax_code.group_changed"
    assert "GSTQST" in refused.value.message
    assert Line.objects.for_company(books).count() == lines_before
    assert not Entry.objects.for_company(books).exists()
