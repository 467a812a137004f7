"""Open items in any currency: Local Ltd's EUR invoice of 100.00 paid 60.00 and then 40.00,
settled part by part; a foreign item beside it; undo; the party-less receivable line refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.exceptions import ValidationFailed
from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.ledger.exceptions import PostingRefused
from keel.ledger.models import Entry, Line, SettledLine, Settlement
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.services.revaluation import preview_revaluation
from keel.ledger.services.settlements import (
    Allocation,
    list_open_items,
    open_amounts,
    open_item_totals,
    settle_items,
    settle_open_items,
    undo_settlement,
)

pytestmark = pytest.mark.django_db

D = Decimal
JAN_10, FEB_5, FEB_20, FEB_28 = dt.date(2026, 1, 10), dt.date(2026, 2, 5), dt.date(2026, 2, 20), dt.date(2026, 2, 28)


def _line(entry, account) -> Line:
    return Line.objects.get(entry=entry, account__code=account)


def invoice(company, party, amount, day=JAN_10, currency=None, due=None) -> Line:
    """A sale to `party` on 1200 (in EUR, the base currency, unless `currency`)."""
    if currency:
        lines = [LineInput(account="1200", currency=currency, amount_currency=D(amount), party=party.pk, due_date=due),
                 LineInput(account="4000", currency=currency, amount_currency=-D(amount))]
    else:
        lines = [LineInput(account="1200", debit=D(amount), party=party.pk, due_date=due),
                 LineInput(account="4000", credit=D(amount))]
    return _line(post_entry(actor=None, company=company, journal="SAL", date=day, lines=lines,
                            check_permission=False), "1200")


def payment(company, party, amount, day=FEB_5, currency=None) -> Line:
    """A payment from `party` into the bank, credited to 1200."""
    if currency:
        lines = [LineInput(account="1400", currency=currency, amount_currency=D(amount)),
                 LineInput(account="1200", currency=currency, amount_currency=-D(amount), party=party.pk)]
    else:
        lines = [LineInput(account="1400", debit=D(amount)), LineInput(account="1200", credit=D(amount), party=party.pk)]
    return _line(post_entry(actor=None, company=company, journal="BNK", date=day, lines=lines,
                            check_permission=False), "1200")


def _open(company, line) -> tuple[Decimal, Decimal] | None:
    """(open amount in its currency, its booked value), None when nothing is open."""
    found = [row for row in open_amounts(company, list_open_items(company)) if row.pk == line.pk]
    return (found[0].open_amount_currency, found[0].open_amount) if found else None


def _written():
    return (Settlement.objects.count(), SettledLine.objects.count(), Entry.objects.count(),
            Activity.objects.filter(verb="ledger.items_settled").count())


@pytest.fixture
def local(books):
    return Party.objects.create(company=books, name="Local Ltd")


def test_a_base_currency_invoice_is_settled_in_two_parts(books, accountant, local):
    sale = invoice(books, local, "100.00")
    first, second = payment(books, local, "60.00"), payment(books, local, "40.00", day=FEB_20)
    entries = Entry.objects.count()

    part = settle_open_items(actor=accountant, company=books, allocations=[Allocation(sale.pk, "60.00"), first.pk])
    assert (part.amount_currency, part.difference, part.entry) == (D("60.00"), D(0), None)
    assert Entry.objects.count() == entries  # nothing to post in the company's currency
    assert sorted((s.line_id, s.amount_currency, s.amount, s.closes_line) for s in part.settled_lines.all()) == [
        (sale.pk, D("60.00"), D("60.00"), False), (first.pk, D("-60.00"), D("-60.00"), True)]
    assert _open(books, sale) == (D("40.00"), D("40.00"))  # the residual stays open
    assert _open(books, first) is None and _open(books, second) == (D("-40.00"), D("-40.00"))
    assert open_item_totals(books, list_open_items(books, party_id=local.pk)) == [
        {"account": "1200", "party_id": local.pk, "party": "Local Ltd", "currency": "EUR",
         "amount_currency": D(0), "booked": D(0)}]

    rest = settle_items(actor=accountant, company=books, lines=[sale.pk, second.pk])
    assert rest.amount_currency == D("40.00") and rest.date == FEB_20
    assert list(list_open_items(books)) == []
    data = Activity.objects.filter(verb="ledger.items_settled").order_by("seq").last().data
    assert data["allocations"] == [
        {"line": sale.pk, "amount_currency": "40.00", "amount": "40.00", "closes_line": True},
        {"line": second.pk, "amount_currency": "-40.00", "amount": "-40.00", "closes_line": True}]


def test_one_payment_settles_two_invoices(books, accountant, local):
    march, april = invoice(books, local, "30.00"), invoice(books, local, "70.00")
    paid = payment(books, local, "100.00")
    settlement = settle_items(actor=accountant, company=books, lines=[march.pk, april.pk, paid.pk])
    assert settlement.amount_currency == D("100.00") and SettledLine.objects.filter(settlement=settlement).count() == 3
    assert list(list_open_items(books)) == []


def test_a_foreign_item_settled_in_part_posts_the_realized_difference_of_that_part(books, owner, accountant, local):
    """USD 100 invoiced at 0.90 (EUR 90), USD 60 paid at 1.00 (EUR 60): the 60 settled were booked at 54,
    so 6.00 is gained now and USD 40 stays open at EUR 36; the EUR items beside it are untouched."""
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_10, rate="0.9")
    set_rate(actor=owner, company=books, currency="USD", on_date=FEB_5, rate="1.0")
    sale = invoice(books, local, "100.00", currency="USD")
    paid = payment(books, local, "60.00", currency="USD")
    euro_sale, euro_paid = invoice(books, local, "50.00"), payment(books, local, "50.00")

    settlement = settle_open_items(actor=accountant, company=books,
                                   allocations=[{"line": sale.pk, "amount": "60"}, {"line": paid.pk}])
    assert (settlement.currency_id, settlement.amount_currency, settlement.difference) == ("USD", D("60.00"), D("6.00"))
    assert sorted((line.account.code, line.debit, line.credit) for line in settlement.entry.lines.select_related("account")) == [
        ("1200", D("6.00"), D(0)), ("7200", D(0), D("6.00"))]
    assert _open(books, sale) == (D("40.00"), D("36.00"))
    assert _open(books, euro_sale) == (D("50.00"), D("50.00")) and _open(books, euro_paid) == (D("-50.00"), D("-50.00"))
    usd = Line.objects.filter(company=books, account__code="1200", party=local, currency_id="USD")
    assert sum((line.debit - line.credit for line in usd), D(0)) == D("36.00")  # the books agree with the residual

    # The rest paid at 1.10 settles the residual: its 36.00 booked against 44.00 received.
    set_rate(actor=owner, company=books, currency="USD", on_date=FEB_20, rate="1.1")
    rest = settle_items(actor=accountant, company=books,
                        lines=[sale.pk, payment(books, local, "40.00", day=FEB_20, currency="USD").pk])
    assert rest.difference == D("8.00")
    assert sum((line.debit - line.credit for line in usd.all()), D(0)) == D(0)
    set_rate(actor=owner, company=books, currency="USD", on_date=FEB_28, rate="1.2")
    assert [row for row in preview_revaluation(company=books, period_end=FEB_28).rows if row.party_id == local.pk] == []


def test_undoing_a_partial_settlement_opens_its_amounts_again(books, accountant, local):
    sale = invoice(books, local, "100.00")
    first, second = payment(books, local, "60.00"), payment(books, local, "40.00")
    one = settle_open_items(actor=accountant, company=books, allocations=[Allocation(sale.pk, "60"), Allocation(first.pk)])
    two = settle_items(actor=accountant, company=books, lines=[sale.pk, second.pk])
    assert _open(books, sale) is None

    undo_settlement(actor=accountant, settlement=one)
    assert _open(books, sale) == (D("60.00"), D("60.00")) and _open(books, first) == (D("-60.00"), D("-60.00"))
    assert not SettledLine.objects.filter(settlement=two, closes_line=True, line=sale).exists()
    again = settle_items(actor=accountant, company=books, lines=[sale.pk, first.pk])
    assert again.amount_currency == D("60.00") and list(list_open_items(books)) == []


@pytest.mark.parametrize(("amount", "code"), [
    ("60.01", "settlement.amount_too_large"), ("0", "settlement.invalid_amount"), ("-5", "settlement.invalid_amount"),
    ("1.234", "money.too_many_decimals"), ("abc", "money.not_a_number"), ("50", "settlement.unbalanced"),
])
def test_an_amount_that_does_not_fit_the_line_is_refused_and_nothing_is_written(books, accountant, local, amount, code):
    sale, paid = invoice(books, local, "100.00"), payment(books, local, "60.00")
    settle_open_items(actor=accountant, company=books, allocations=[Allocation(sale.pk, "40"), Allocation(paid.pk, "40")])
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        # 60.00 is open of the invoice and 20.00 of the payment
        settle_open_items(actor=accountant, company=books, allocations=[Allocation(sale.pk, amount), paid.pk])
    assert refused.value.code == code
    assert _written() == before
    assert _open(books, sale) == (D("60.00"), D("60.00")) and _open(books, paid) == (D("-20.00"), D("-20.00"))


def test_a_line_with_nothing_open_is_refused_naming_its_settlement(books, accountant, local):
    sale, paid = invoice(books, local, "100.00"), payment(books, local, "100.00")
    done = settle_items(actor=accountant, company=books, lines=[sale.pk, paid.pk])
    other = payment(books, local, "100.00")
    before = _written()
    with pytest.raises(ValidationFailed) as refused:
        settle_items(actor=accountant, company=books, lines=[sale.pk, other.pk])
    assert refused.value.code == "settlement.already_settled" and f"settlement #{done.pk}" in refused.value.message
    assert _written() == before


def test_the_api_settles_part_of_a_line_and_lists_what_stays_open(books, accountant, local):
    sale, paid = invoice(books, local, "100.00"), payment(books, local, "30.00")
    api = ApiClient(accountant, books)
    response = api.post("/api/ledger/settlements", {"allocations": [{"line": sale.pk, "amount": "30.00"},
                                                                    {"line": paid.pk}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount_currency"] == "30.00" and body["difference"] == "0.00" and body["entry_id"] is None
    assert [(a["line"], D(a["amount_currency"]), a["closes_line"]) for a in body["allocations"]] == [
        (sale.pk, D("30"), False), (paid.pk, D("-30"), True)]
    listed = api.get(f"/api/ledger/open-items?party={local.pk}").json()["items"]
    assert [(row["id"], D(row["open_amount_currency"]), D(row["open_amount"])) for row in listed] == [
        (sale.pk, D("70.00"), D("70.00"))]
    assert_error(api.post("/api/ledger/settlements", {"allocations": [{"line": sale.pk, "amount": "80"},
                                                                      {"line": paid.pk}]}), 400,
                 "settlement.amount_too_large")  # 70.00 is open of the invoice
    assert_error(api.post("/api/ledger/settlements", {"allocations": [{"line": sale.pk, "amount": "10"},
                                                                      {"line": paid.pk}]}), 400,
                 "settlement.already_settled")  # nothing of the payment
    assert Settlement.objects.count() == 1


def test_the_open_items_page_settles_the_part_typed_next_to_a_line(books, accountant, local, client_for):
    sale, paid = invoice(books, local, "100.00"), payment(books, local, "25.00")
    web = client_for(accountant)
    page = web.get("/ledger/settlements/open-items/").content.decode()
    assert f'name="amount-{sale.pk}"' in page and "Local Ltd" in page
    web.post("/ledger/settlements/open-items/", {"lines": [sale.pk, paid.pk], f"amount-{sale.pk}": "25.00"},
             follow=True)
    assert _open(books, sale) == (D("75.00"), D("75.00"))
    page = web.get("/ledger/settlements/open-items/").content.decode()
    assert "partly settled" in page and "75.00" in page


# -- a receivable or payable line names its party ------------------------------------------------


@pytest.mark.parametrize("account", ["1200", "2100"])
def test_a_receivable_or_payable_line_without_a_party_is_refused_at_posting(books, accountant, account):
    entries, lines = Entry.objects.count(), Line.objects.count()
    with pytest.raises(PostingRefused) as refused:
        post_entry(actor=accountant, company=books, journal="GEN", date=JAN_10, lines=[
            LineInput(account="1400", debit=D(10)), LineInput(account=account, credit=D(10))])
    assert refused.value.code == "line.party_required" and list(refused.value.fields) == ["lines[1].party"]
    assert "Line 2 is on" in refused.value.message and account in refused.value.message
    assert (Entry.objects.count(), Line.objects.count()) == (entries, lines)


def test_the_posting_api_refuses_a_party_less_receivable_line(books, accountant):
    api = ApiClient(accountant, books)
    response = api.post("/api/ledger/entries", {"journal": "GEN", "date": "2026-01-10", "post": True, "lines": [
        {"account": "1200", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}]})
    assert_error(response, 400, "line.party_required")
    assert not Entry.objects.filter(company=books).exists()


def test_a_bank_line_booked_to_the_receivables_needs_its_party(books, accountant, local):
    from keel.ledger.services.reconciliation import reconcile_statement_line
    from keel.ledger.tests.bank_helpers import bank_account, import_sample

    statement = import_sample(bank_account(books), "camt053")
    received = statement.lines.order_by("pk").first()
    assert received.amount > 0
    entries = Entry.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        reconcile_statement_line(actor=accountant, statement_line=received, write_off_account="1200")
    assert refused.value.code == "reconciliation.party_required"
    assert f"Statement line #{received.pk}" in refused.value.message and "1200" in refused.value.message
    received.refresh_from_db()
    assert Entry.objects.count() == entries and not received.is_reconciled

    api = ApiClient(accountant, books)
    path = f"/api/ledger/bank-statement-lines/{received.pk}/reconcile"
    assert_error(api.post(path, {"write_off_account": "1200"}), 400, "reconciliation.party_required")
    response = api.post(path, {"write_off_account": "1200", "write_off_party": local.pk})
    assert response.status_code == 200, response.content
    booked = Line.objects.get(company=books, account__code="1200", entry__number=response.json()["entry"])
    assert booked.party_id == local.pk and booked.credit == received.amount
    assert [line.pk for line in list_open_items(books, party_id=local.pk)] == [booked.pk]


def test_the_reconcile_page_books_a_receipt_to_the_receivables_of_the_chosen_party(books, accountant, local,
                                                                                  client_for):
    from keel.ledger.tests.bank_helpers import bank_account, import_sample

    statement = import_sample(bank_account(books), "camt053")
    received = statement.lines.order_by("pk").first()
    web = client_for(accountant)
    page = web.get(f"/ledger/bank/statements/{statement.pk}/reconcile/").content.decode()
    assert f'aria-controls="id_write_off_party_{received.pk}_options"' in page  # its own search box per line
    url = f"/ledger/bank/lines/{received.pk}/reconcile/"
    refused = web.post(url, {"write_off_account": "1200"}, follow=True).content.decode()
    assert "name the party its line is for" in refused and not Entry.objects.filter(source_id=str(received.pk)).exists()
    web.post(url, {"write_off_account": "1200", "write_off_party": local.pk, "write_off_party_search": "Local Ltd"})
    received.refresh_from_db()
    assert received.is_reconciled
    [booked] = Line.objects.filter(company=books, account__code="1200")
    assert (booked.party_id, booked.credit) == (local.pk, received.amount)
