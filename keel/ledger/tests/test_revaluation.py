"""Foreign currencies: period-end revaluation with its reversal, realized differences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.activity import Activity
from keel.core.db_money import MoneySum
from keel.core.exceptions import PermissionDenied, ValidationFailed
from keel.core.models import Party
from keel.core.services.currencies import set_rate
from keel.core.tests.factories import member
from keel.ledger.models import Entry, Line, Revaluation
from keel.ledger.services.balances import verify_balances
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.services.revaluation import (
    post_realized_difference,
    post_revaluation,
    preview_revaluation,
    undo_revaluation,
)
from keel.ledger.tests.factories import party_for, set_up_books
from keel.web.tests.pages import Page, page_tests

pytestmark = pytest.mark.django_db

JAN_10, JAN_31, FEB_1 = dt.date(2026, 1, 10), dt.date(2026, 1, 31), dt.date(2026, 2, 1)


def customer(company) -> Party:
    return Party.objects.create(company=company, name="Yankee Inc")


def usd_sale(company, *, amount="100.00", day=JAN_10, party=None, rate=None):
    """A USD receivable against USD sales (at the day's rate, or `rate`)."""
    return post_entry(actor=None, company=company, journal="SAL", date=day, check_permission=False, lines=[
        LineInput(account="1200", currency="USD", amount_currency=Decimal(amount), rate=rate,
                  party=party or party_for(company, "1200")),
        LineInput(account="4000", currency="USD", amount_currency=-Decimal(amount), rate=rate),
    ])


def a_revaluation(company, owner, *, day=JAN_10, period_end=JAN_31) -> Revaluation:
    """A USD sale of 100 at 0.90 revalued at 0.95: a gain of 5.00 (used by the isolation walk too)."""
    set_up_books(company)
    set_rate(actor=owner, company=company, currency="USD", on_date=day, rate="0.9")
    set_rate(actor=owner, company=company, currency="USD", on_date=period_end, rate="0.95")
    usd_sale(company, day=day, party=customer(company))
    return post_revaluation(actor=owner, company=company, period_end=period_end)


def balance(company, code: str, *, until: dt.date | None = None, since: dt.date | None = None) -> Decimal:
    lines = Line.objects.filter(company=company, account__code=code)
    if until:
        lines = lines.filter(date__lte=until)
    if since:
        lines = lines.filter(date__gte=since)
    return sum((line.debit - line.credit for line in lines), Decimal(0))


@pytest.fixture
def rates(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_10, rate="0.9")
    set_rate(actor=owner, company=books, currency="USD", on_date=JAN_31, rate="0.95")
    return books


# -- revaluation ---------------------------------------------------------------------------


def test_the_preview_values_open_items_at_the_period_end_rate(rates, owner):
    party = customer(rates)
    usd_sale(rates, party=party)
    preview = preview_revaluation(company=rates, period_end=JAN_31)
    [row] = preview.rows
    assert (row.account_code, row.party_id, row.currency) == ("1200", party.pk, "USD")
    assert (row.amount_currency, row.booked, row.rate, row.revalued) == (
        Decimal("100"), Decimal("90"), Decimal("0.95"), Decimal("95.00"))
    assert row.difference == Decimal("5") and preview.gain == Decimal("5") and preview.loss == 0
    assert Entry.objects.filter(company=rates).count() == 1  # a preview posts nothing


def test_revaluation_posts_the_gain_at_period_end_and_reverses_it_next_period(rates, owner):
    usd_sale(rates, party=customer(rates))
    revaluation = post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    entry, reversal = revaluation.entry, revaluation.reversal
    assert entry.date == JAN_31 and entry.journal.code == "GEN" and entry.status == "reversed"
    assert reversal.date == FEB_1 and reversal.reversal_of_id == entry.pk
    assert revaluation.gain == Decimal("5") and revaluation.loss == 0
    # January: the receivable is worth 95 EUR and the gain is in the result; February starts from 90 again.
    assert balance(rates, "1200", until=JAN_31) == Decimal("95")
    assert balance(rates, "7200", until=JAN_31) == Decimal("-5")
    assert balance(rates, "1200") == Decimal("90") and balance(rates, "7200") == 0
    assert Activity.objects.filter(company=rates, verb="ledger.revaluation_posted").count() == 1
    # Revalued already: the preview shows nothing left to post.
    preview = preview_revaluation(company=rates, period_end=JAN_31)
    assert preview.existing == revaluation and preview.postable == []


def test_a_loss_on_a_payable_goes_to_exchange_losses(rates, owner):
    post_entry(actor=None, company=rates, journal="PUR", date=JAN_10, check_permission=False, lines=[
        LineInput(account="6200", currency="USD", amount_currency=Decimal("200.00")),
        LineInput(account="2100", party=party_for(rates, "2100"), currency="USD", amount_currency=Decimal("-200.00")),
    ])
    revaluation = post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    assert revaluation.loss == Decimal("10") and revaluation.gain == 0
    assert balance(rates, "7300", until=JAN_31) == Decimal("10")
    assert balance(rates, "2100", until=JAN_31) == Decimal("-190")


def test_revaluing_the_same_period_twice_is_refused_until_undone(rates, owner):
    usd_sale(rates)
    first = post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    entries = Entry.objects.filter(company=rates).count()
    with pytest.raises(ValidationFailed) as refused:
        post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    assert refused.value.code == "revaluation.already_done"
    assert Entry.objects.filter(company=rates).count() == entries

    undo_revaluation(actor=owner, revaluation=first)
    first.refresh_from_db()
    assert first.status == "undone"
    assert balance(rates, "7200", until=JAN_31) == 0 and balance(rates, "7200") == 0
    assert balance(rates, "1200", until=JAN_31) == Decimal("90")
    again = post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    assert again.gain == Decimal("5") and balance(rates, "1200", until=JAN_31) == Decimal("95")


def test_a_missing_rate_is_refused_and_nothing_is_posted(books, owner):
    usd_sale(books, rate="0.9")  # a rate given on the line; none stored for the period end
    with pytest.raises(ValidationFailed) as refused:
        post_revaluation(actor=owner, company=books, period_end=JAN_31)
    assert refused.value.code == "revaluation.rate_missing" and "USD" in refused.value.message
    assert Entry.objects.filter(company=books).count() == 1 and not Revaluation.objects.exists()


def test_nothing_to_revalue_and_a_date_that_is_no_period_end_are_refused(rates, owner):
    with pytest.raises(ValidationFailed) as nothing:
        post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    assert nothing.value.code == "revaluation.nothing_to_post"
    with pytest.raises(ValidationFailed) as not_an_end:
        post_revaluation(actor=owner, company=rates, period_end=dt.date(2026, 1, 30))
    assert not_an_end.value.code == "revaluation.not_a_period_end"
    assert not Entry.objects.filter(company=rates).exists()


def test_revaluation_needs_the_post_permission(rates, owner):
    usd_sale(rates)
    auditor = member(rates, "auditor")
    with pytest.raises(PermissionDenied):
        post_revaluation(actor=auditor, company=rates, period_end=JAN_31)
    assert Entry.objects.filter(company=rates).count() == 1


# -- realized differences ------------------------------------------------------------------


def test_settling_half_a_receivable_at_a_better_rate_posts_a_realized_gain(rates, owner):
    party = customer(rates)
    usd_sale(rates, party=party)  # 100 USD booked at 90 EUR
    # The customer pays 50 USD at 1.00: the payment credits the receivable with 50 EUR.
    post_entry(actor=owner, company=rates, journal="BNK", date=dt.date(2026, 1, 20), lines=[
        LineInput(account="1400", currency="USD", amount_currency=Decimal("50.00"), rate="1"),
        LineInput(account="1200", currency="USD", amount_currency=Decimal("-50.00"), rate="1", party=party),
    ])
    result = post_realized_difference(
        actor=owner, company=rates, account="1200", party=party, currency="USD", amount_currency="100.00",
        booked_amount="90.00", settled_amount_currency="50.00", rate="1", date=dt.date(2026, 1, 20),
    )
    assert (result.booked, result.settled, result.difference) == (Decimal("45.00"), Decimal("50.00"), Decimal("5.00"))
    assert balance(rates, "7200") == Decimal("-5")
    # The 50 USD left are booked at 45 EUR again; revalued at 0.95 they gain 2.50 more.
    assert balance(rates, "1200") == Decimal("45")
    # The 50 USD now in the bank were booked at 50 EUR: they lose 2.50.
    rows = {row.account_code: row for row in preview_revaluation(company=rates, period_end=JAN_31).rows}
    assert (rows["1200"].amount_currency, rows["1200"].booked, rows["1200"].difference) == (
        Decimal("50"), Decimal("45"), Decimal("2.50"))
    assert (rows["1400"].amount_currency, rows["1400"].booked, rows["1400"].difference) == (
        Decimal("50"), Decimal("50"), Decimal("-2.50"))


def test_paying_a_payable_at_a_worse_rate_posts_a_realized_loss(rates, owner):
    result = post_realized_difference(
        actor=owner, company=rates, account="2100", currency="USD", amount_currency="-200.00",
        booked_amount="-180.00", settled_amount_currency="-200.00", settled_amount="-200.00", date=JAN_31,
        party=party_for(rates, "2100"),
    )
    assert result.difference == Decimal("-20.00")
    lines = {line.account.code: (line.debit, line.credit) for line in result.entry.lines.select_related("account")}
    assert lines == {"2100": (0, Decimal("20.00")), "7300": (Decimal("20.00"), 0)}


def test_no_difference_posts_nothing(rates, owner):
    result = post_realized_difference(
        actor=owner, company=rates, account="1200", currency="USD", amount_currency="100", booked_amount="90",
        settled_amount_currency="100", rate="0.9", date=JAN_31,
    )
    assert result.difference == 0 and result.entry is None and not Entry.objects.filter(company=rates).exists()


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"settled_amount_currency": "150"}, "exchange.invalid", "settled_amount_currency"),
    ({"settled_amount_currency": "-10"}, "exchange.invalid", "settled_amount_currency"),
    ({"rate": "abc"}, "money.not_a_number", "rate"),
    ({"amount_currency": "100.001"}, "money.too_many_decimals", "amount_currency"),
    ({"currency": "EUR"}, "exchange.not_foreign", "currency"),
    ({"rate": None}, "exchange.invalid", "rate"),
])
def test_bad_settlements_are_refused(rates, owner, changes, code, field):
    values = {"account": "1200", "currency": "USD", "amount_currency": "100", "booked_amount": "90",
              "settled_amount_currency": "50", "rate": "1", "date": JAN_31, **changes}
    with pytest.raises(ValidationFailed) as refused:
        post_realized_difference(actor=owner, company=rates, **values)
    assert refused.value.code == code and field in refused.value.fields
    assert not Entry.objects.filter(company=rates).exists()


# -- pages ---------------------------------------------------------------------------------


(test_page_renders, test_page_needs_permission, test_page_of_other_company_is_404, test_page_needs_login) = page_tests([
    Page("ledger:revaluation_page", make=None, query="?period=2026-01-31"),
])


def test_the_page_previews_then_posts_and_undoes(rates, owner, client_for):
    usd_sale(rates, party=customer(rates))
    client = client_for(owner)
    content = client.get("/ledger/revaluation/?period=2026-01-31").content.decode()
    assert "Yankee Inc" in content and "95.00" in content and "Post the revaluation" in content
    response = client.post("/ledger/revaluation/", {"period": "2026-01-31"})
    assert response.status_code == 302
    revaluation = Revaluation.objects.get(company=rates)
    content = client.get(response["Location"]).content.decode()
    assert revaluation.entry.number in content and "Already revalued" in content
    assert client.post(f"/ledger/revaluation/{revaluation.pk}/undo/").status_code == 302
    revaluation.refresh_from_db()
    assert revaluation.status == "undone"


def test_the_page_shows_a_missing_rate(books, owner, client_for):
    usd_sale(books, rate="0.9")
    content = client_for(owner).post("/ledger/revaluation/", {"period": "2026-01-31"}).content.decode()
    assert "No USD exchange rate" in content and not Revaluation.objects.exists()


def test_an_auditor_sees_the_page_but_cannot_post(rates, client_for):
    usd_sale(rates)
    client = client_for(member(rates, "auditor"))
    assert client.get("/ledger/revaluation/?period=2026-01-31").status_code == 200
    assert client.post("/ledger/revaluation/", {"period": "2026-01-31"}).status_code == 403
    assert not Revaluation.objects.exists()


# -- API -----------------------------------------------------------------------------------


def test_the_api_previews_posts_lists_and_undoes(rates, owner):
    usd_sale(rates)
    api = ApiClient(owner, rates)
    preview = api.get("/api/ledger/revaluations/preview?period_end=2026-01-31").json()
    assert preview["gain"] == "5.00" or Decimal(preview["gain"]) == Decimal("5")
    assert preview["rows"][0]["account"] == "1200" and not preview["already_revalued"]
    created = api.post("/api/ledger/revaluations", {"period_end": "2026-01-31"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["period_end"] == "2026-01-31" and Decimal(body["gain"]) == Decimal("5")
    assert_error(api.post("/api/ledger/revaluations", {"period_end": "2026-01-31"}), 400, "revaluation.already_done")
    assert [item["id"] for item in api.get("/api/ledger/revaluations").json()["items"]] == [body["id"]]
    undone = api.post(f"/api/ledger/revaluations/{body['id']}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"


def test_the_api_refuses_a_missing_rate_and_a_bad_date(books, owner):
    usd_sale(books, rate="0.9")
    api = ApiClient(owner, books)
    assert_error(api.post("/api/ledger/revaluations", {"period_end": "2026-01-31"}), 400, "revaluation.rate_missing")
    assert api.post("/api/ledger/revaluations", {"period_end": "not a date"}).status_code in (400, 422)
    assert not Revaluation.objects.exists() and Entry.objects.filter(company=books).count() == 1


def test_a_usd_only_bank_account_is_revalued_with_a_zero_usd_exchange_line(rates, owner):
    from keel.ledger.services.chart import create_account

    create_account(actor=None, company=rates, code="1420", name="USD bank", account_type="asset", role="bank",
                   currency="USD", check_permission=False)
    post_entry(actor=None, company=rates, journal="BNK", date=JAN_10, check_permission=False, lines=[
        LineInput(account="1420", currency="USD", amount_currency=Decimal("100.00")),
        LineInput(account="3000", currency="USD", amount_currency=Decimal("-100.00")),
    ])
    [row] = preview_revaluation(company=rates, period_end=JAN_31).rows
    assert row.account_code == "1420" and row.difference == Decimal("5")
    revaluation = post_revaluation(actor=owner, company=rates, period_end=JAN_31)
    assert revaluation.gain == Decimal("5") and balance(rates, "1420", until=JAN_31) == Decimal("95")
    [exchange_line] = Line.objects.filter(entry=revaluation.entry, account__code="1420")
    assert (exchange_line.currency_id, exchange_line.amount_currency, exchange_line.debit) == ("USD", 0, Decimal("5"))
    usd = Line.objects.filter(company=rates, account__code="1420").aggregate(t=MoneySum("amount_currency"))["t"]
    assert usd == Decimal("100.00")  # the bank still holds 100 USD; only their base value moved
    assert balance(rates, "1420", until=revaluation.reversal.date) == Decimal("90")
    assert verify_balances(rates).ok
