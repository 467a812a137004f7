"""Settling foreign items: a USD invoice booked at 0.90 and paid at 1.00 leaves a realized gain
of 10.00, posted when the two lines are settled; the item is then zero in both currencies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.core.tests.factories import member
from keel.ledger.models import Entry, Line, SettledLine, Settlement
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.services.revaluation import preview_revaluation
from keel.ledger.services.settlements import list_open_items, settle_items, undo_settlement
from keel.ledger.tests.factories import set_up_books
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

D = Decimal
JAN_10, FEB_5, FEB_28 = dt.date(2026, 1, 10), dt.date(2026, 2, 5), dt.date(2026, 2, 28)


def _invoice(company, party, amount="100.00", day=JAN_10, account="1200"):
    other = "4000" if account == "1200" else "6100"
    sign = 1 if account == "1200" else -1
    return post_entry(actor=None, company=company, journal="SAL" if account == "1200" else "PUR", date=day,
                      check_permission=False, lines=[
                          LineInput(account=account, currency="USD", amount_currency=sign * D(amount), party=party.pk),
                          LineInput(account=other, currency="USD", amount_currency=-sign * D(amount))])


def _payment(company, party, amount="100.00", day=FEB_5, account="1200"):
    sign = 1 if account == "1200" else -1
    return post_entry(actor=None, company=company, journal="BNK", date=day, check_permission=False, lines=[
        LineInput(account="1450", currency="USD", amount_currency=sign * D(amount)),
        LineInput(account=account, currency="USD", amount_currency=-sign * D(amount), party=party.pk)])


def _item_line(entry, account="1200") -> Line:
    return Line.objects.get(entry=entry, account__code=account)


def an_invoice_and_its_payment(company, owner):
    """Yankee Inc's USD 100 invoice at 0.90 and its payment at 1.00 (the isolation walk uses it)."""
    set_up_books(company)
    set_rate(actor=owner, company=company, currency="USD", on_date=JAN_10, rate="0.9")
    set_rate(actor=owner, company=company, currency="USD", on_date=FEB_5, rate="1.0")
    party = Party.objects.create(company=company, name="Yankee Inc")
    return party, _item_line(_invoice(company, party)), _item_line(_payment(company, party))


@pytest.fixture
def item(books, owner):
    return an_invoice_and_its_payment(books, owner)


def _item_balance(company, party) -> tuple[Decimal, Decimal]:
    lines = Line.objects.filter(company=company, account__code="1200", party=party)
    return (sum((line.amount_currency for line in lines), D(0)), sum((line.debit - line.credit for line in lines), D(0)))


def test_settling_an_invoice_and_its_payment_posts_the_realized_gain(books, owner, accountant, item):
    party, invoice, payment = item
    assert _item_balance(books, party) == (D(0), D("-10.00"))  # paid in full, 10.00 left in the books
    settlement = settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    assert (settlement.date, settlement.amount_currency, settlement.difference) == (FEB_5, D("100.00"), D("10.00"))
    assert sorted((line.account.code, line.debit, line.credit, line.amount_currency)
                  for line in settlement.entry.lines.select_related("account")) == [
        ("1200", D("10.00"), D(0), D(0)), ("7200", D(0), D("10.00"), D("-10.00"))]
    assert settlement.entry.source_type == "ledger.settlement"
    assert _item_balance(books, party) == (D(0), D(0))
    assert list(list_open_items(books)) == []
    activity = Activity.objects.get(company=books, verb="ledger.items_settled")
    assert activity.actor == accountant and activity.data["difference"] == "10.00"
    # Nothing is left for the month-end revaluation on that item.
    set_rate(actor=owner, company=books, currency="USD", on_date=FEB_28, rate="1.1")
    assert [row for row in preview_revaluation(company=books, period_end=FEB_28).rows if row.party_id == party.pk] == []


def test_a_payable_paid_dearer_posts_a_loss(books, owner, accountant):
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_10, rate="0.9")
    set_rate(actor=owner, company=books, currency="USD", on_date=FEB_5, rate="1.0")
    supplier = Party.objects.create(company=books, name="Supplier LLC")
    bill = _item_line(_invoice(books, supplier, account="2100"), "2100")
    paid = _item_line(_payment(books, supplier, account="2100"), "2100")
    settlement = settle_items(actor=accountant, company=books, lines=[bill.pk, paid.pk])
    assert settlement.difference == D("-10.00")
    assert sorted((line.account.code, line.debit, line.credit) for line in settlement.entry.lines.select_related("account")) == [
        ("2100", D(0), D("10.00")), ("7300", D("10.00"), D(0))]


def test_lines_booked_at_the_same_value_settle_without_an_entry(books, owner, accountant):
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_10, rate="0.9")
    party = Party.objects.create(company=books, name="Yankee Inc")
    invoice, payment = _item_line(_invoice(books, party)), _item_line(_payment(books, party, day=JAN_10))
    entries = Entry.objects.count()
    settlement = settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    assert settlement.entry is None and settlement.difference == 0 and Entry.objects.count() == entries


def _written():
    return (Settlement.objects.count(), SettledLine.objects.count(), Entry.objects.count(),
            Activity.objects.filter(verb="ledger.items_settled").count())


@pytest.mark.parametrize(("lines", "code"), [
    (lambda invoice, payment, other: [invoice.pk], "settlement.too_few_lines"),
    (lambda invoice, payment, other: [invoice.pk, "x"], "settlement.invalid"),
    (lambda invoice, payment, other: [invoice.pk, 10**12], "settlement.line_not_found"),
    (lambda invoice, payment, other: [invoice.pk, other.pk], "settlement.mixed_items"),
    (lambda invoice, payment, other: [invoice.pk, Line.objects.get(entry=invoice.entry, account__code="4000").pk],
     "settlement.mixed_items"),
])
def test_lines_that_are_not_one_settled_item_are_refused_and_nothing_is_written(books, accountant, item, lines, code):
    party, invoice, payment = item
    other = _item_line(_invoice(books, Party.objects.create(company=books, name="Other Inc")))
    before = _written()
    with pytest.raises((ValidationFailed, NotFound)) as refused:
        settle_items(actor=accountant, company=books, lines=lines(invoice, payment, other))
    assert refused.value.code == code
    assert _written() == before


def test_a_partly_paid_item_is_refused_naming_what_stays_open(books, owner, accountant):
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_10, rate="0.9")
    party = Party.objects.create(company=books, name="Yankee Inc")
    invoice, payment = _item_line(_invoice(books, party)), _item_line(_payment(books, party, amount="60.00"))
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    assert refused.value.code == "settlement.unbalanced"
    assert "leave 40.00 USD open" in refused.value.message
    assert _written() == before


def test_a_line_is_settled_once_until_its_settlement_is_undone(books, accountant, item):
    party, invoice, payment = item
    settlement = settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    with pytest.raises(ValidationFailed) as refused:
        settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    assert refused.value.code == "settlement.already_settled"

    undone = undo_settlement(actor=accountant, settlement=settlement)
    assert undone.status == "undone" and undone.reversal.reversal_of_id == settlement.entry_id
    assert _item_balance(books, party) == (D(0), D("-10.00"))
    assert sorted(line.pk for line in list_open_items(books)) == sorted([invoice.pk, payment.pk])
    again = settle_items(actor=accountant, company=books, lines=[invoice.pk, payment.pk])
    assert again.difference == D("10.00")
    with pytest.raises(ValidationFailed) as twice:
        undo_settlement(actor=accountant, settlement=undone)
    assert twice.value.code == "settlement.not_posted"


def test_other_companies_lines_and_lines_that_are_not_items_are_refused(books, other_books, owner, outsider,
                                                                        accountant):
    """Base-currency items settle too (test_open_items.py); lines of another company or off the
    receivable and payable accounts do not."""
    _, foreign_invoice, foreign_payment = an_invoice_and_its_payment(other_books, outsider)
    with pytest.raises(NotFound):
        settle_items(actor=accountant, company=books, lines=[foreign_invoice.pk, foreign_payment.pk])
    bank = post_entry(actor=None, company=books, journal="BNK", date=JAN_10, check_permission=False, lines=[
        LineInput(account="1400", debit=D(10)), LineInput(account="3000", credit=D(10))])
    refill = post_entry(actor=None, company=books, journal="BNK", date=JAN_10, check_permission=False, lines=[
        LineInput(account="3000", debit=D(10)), LineInput(account="1400", credit=D(10))])
    with pytest.raises(ValidationFailed) as refused:
        settle_items(actor=accountant, company=books, lines=[_item_line(bank, "1400").pk, _item_line(refill, "1400").pk])
    assert refused.value.code == "settlement.not_an_item"
    assert not SettledLine.objects.exists()


def test_settling_needs_the_posting_permission(books, item):
    party, invoice, payment = item
    with pytest.raises(PermissionDenied):
        settle_items(actor=member(books, "auditor"), company=books, lines=[invoice.pk, payment.pk])
    assert _written()[0] == 0


# -- API and pages -----------------------------------------------------------------------------


def test_the_api_lists_open_items_settles_and_undoes(books, accountant, item):
    party, invoice, payment = item
    api = ApiClient(accountant, books)
    listed = api.get(f"/api/ledger/open-items?account=1200&party={party.pk}&currency=usd").json()
    assert [row["id"] for row in listed["items"]] == [invoice.pk, payment.pk]
    response = api.post("/api/ledger/settlements", {"lines": [invoice.pk, payment.pk]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["difference"], body["amount_currency"], body["status"]) == ("10.00", "100.00", "posted")
    assert body["entry_number"].startswith("GEN/") and sorted(body["lines"]) == sorted([invoice.pk, payment.pk])
    assert api.get("/api/ledger/open-items").json()["items"] == []
    assert_error(api.post("/api/ledger/settlements", {"lines": [invoice.pk, payment.pk]}), 400,
                 "settlement.already_settled")
    undone = api.post(f"/api/ledger/settlements/{body['id']}/undo", {})
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert [row["id"] for row in api.get("/api/ledger/settlements").json()["items"]] == [body["id"]]


def test_the_open_items_page_settles_the_chosen_lines(books, accountant, item, client_for):
    party, invoice, payment = item
    web = client_for(accountant)
    page = web.get("/ledger/settlements/open-items/?account=1200").content.decode()
    assert "Yankee Inc" in page and f'value="{invoice.pk}"' in page and "-10.00" in page
    response = web.post("/ledger/settlements/open-items/?account=1200", {"lines": [invoice.pk, payment.pk]},
                        follow=True)
    settlement = Settlement.objects.get(company=books)
    assert response.redirect_chain[-1][0] == f"/ledger/settlements/{settlement.pk}/"
    assert "Realized exchange gain" in response.content.decode() or settlement.entry.number in response.content.decode()
    refused = web.post("/ledger/settlements/open-items/?account=1200", {"lines": [invoice.pk]}, follow=True)
    assert "Choose at least two lines" in refused.content.decode()
    assert Settlement.objects.filter(company=books).count() == 1


def _settlement(company, owner):
    party, invoice, payment = an_invoice_and_its_payment(company, owner)
    return {"pk": settle_items(actor=owner, company=company, lines=[invoice.pk, payment.pk]).pk}


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:settlement_list"),
    Page("ledger:open_items"),
    Page("ledger:open_items", query="?account=1200&currency=USD&party=1"),
    Page("ledger:settlement_detail", make=_settlement),
])


def test_an_auditor_sees_open_items_but_cannot_settle_or_undo(books, owner, item, client_for):
    party, invoice, payment = item
    auditor = client_for(member(books, "auditor"))
    page = auditor.get("/ledger/settlements/open-items/").content.decode()
    assert "Yankee Inc" in page and 'name="lines"' not in page  # no checkboxes without ledger.post
    assert auditor.post("/ledger/settlements/open-items/", {"lines": [invoice.pk, payment.pk]}).status_code == 403
    settlement = settle_items(actor=owner, company=books, lines=[invoice.pk, payment.pk])
    assert auditor.post(f"/ledger/settlements/{settlement.pk}/undo/").status_code == 403
    assert Settlement.objects.get(pk=settlement.pk).status == "posted" and Settlement.objects.count() == 1


def test_a_line_id_in_another_script_is_refused_not_a_server_error(books, accountant):
    with pytest.raises(ValidationFailed) as refused:
        settle_items(actor=accountant, company=books, lines=["\u00b2", "\u0661\u0662"])
    assert refused.value.code == "settlement.invalid"
