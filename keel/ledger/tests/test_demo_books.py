"""The demo's books give every report something true to show: VAT returns settled from the bank
every quarter, an approved budget for the current fiscal year, the past fiscal year closed by
the year-end service, bank statements partly reconciled; and a second run adds nothing.

Built as of 2026-12-01 (Keel Demo Ltd's fiscal year runs April-March: FY2025 has ended,
FY2026 runs to March 2027), so the seeded figures are known.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from keel.core.demo import build_demo
from keel.core.models import Activity, Company
from keel.ledger.models import Entry, FiscalYear, Line, Period
from keel.ledger.models.bank import BankMatch, BankStatement, BankStatementLine
from keel.ledger.models.budgets import Budget, BudgetLine
from keel.ledger.reports import budget_range, budget_versus_actual
from keel.ledger.selectors import movements, trial_balance
from keel.ledger.services.balances import verify_balances
from keel.ledger.services.budgets import budget_grid

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = dt.date(2026, 12, 1)


def _demo() -> Company:
    build_demo(today=TODAY)
    return Company.objects.get(code="demo")


def _counts(company) -> dict[str, int]:
    return {
        "entries": Entry.objects.filter(company=company).count(),
        "lines": Line.objects.filter(company=company).count(),
        "budgets": Budget.objects.filter(company=company).count(),
        "budget lines": BudgetLine.objects.filter(company=company).count(),
        "statements": BankStatement.objects.filter(company=company).count(),
        "statement lines": BankStatementLine.objects.filter(company=company).count(),
        "matches": BankMatch.objects.filter(company=company).count(),
        "closed periods": Period.objects.filter(company=company, status="closed").count(),
        "activities": Activity.objects.filter(company=company).count(),
    }


def _balance(company, code: str, day: dt.date) -> Decimal:
    """Debit minus credit of an account up to `day`."""
    account_id = Line.objects.filter(company=company, account__code=code).values_list("account_id", flat=True)[0]
    debit, credit = movements(company, None, day).get(account_id, (D(0), D(0)))
    return debit - credit


def _lines(company, source_id: str) -> dict[str, Decimal]:
    """Debit minus credit per account of the demo entry with this source."""
    return {code: debit - credit for code, debit, credit in Line.objects.filter(
        company=company, entry__source_type="ledger.demo", entry__source_id=source_id)
        .values_list("account__code", "debit", "credit")}


def test_the_demo_is_fast_and_a_second_run_adds_nothing():
    started = time.perf_counter()
    company = _demo()
    assert time.perf_counter() - started < 30  # the whole demo, both companies
    counts = _counts(company)
    assert counts["budgets"] == 1 and counts["statements"] == 2 and counts["closed periods"] == 12
    _demo()
    assert _counts(company) == counts
    assert trial_balance(company, dt.date(2025, 4, 1), TODAY).is_balanced and verify_balances(company).ok


def test_the_past_fiscal_year_is_closed_and_the_bank_statements_stay_partly_reconciled():
    company = _demo()
    years = {year.year: year for year in FiscalYear.objects.filter(company=company)}
    assert {number: year.status for number, year in years.items()} == {2025: "closed", 2026: "open"}
    assert set(Period.objects.filter(fiscal_year=years[2025]).values_list("status", flat=True)) == {"closed"}
    assert set(Period.objects.filter(fiscal_year=years[2026]).values_list("status", flat=True)) == {"open"}
    closing = Entry.objects.get(company=company, source_type="ledger.fiscal_year", source_id=str(years[2025].pk))
    assert (closing.date, closing.reference, closing.journal.code) == (dt.date(2026, 3, 31), "FY2025-CLOSE", "OPN")
    activity = Activity.objects.get(company=company, verb="ledger.fiscal_year_closed")
    assert activity.data["result"] == "47569.93" and activity.actor.username == "accountant@demo.keel"
    # Retained earnings: the opening 47,920.00 and FY2025's profit; no P&L account keeps a balance.
    assert _balance(company, "3100", dt.date(2026, 3, 31)) == D("-95489.93")
    assert _balance(company, "4100", dt.date(2026, 3, 31)) == 0

    older, latest = BankStatement.objects.filter(company=company).order_by("date_from")
    assert (older.file_format, older.date_from, latest.file_format, latest.date_from) == (
        "camt053", dt.date(2026, 10, 1), "csv", dt.date(2026, 11, 4))  # a CSV starts with its first line
    assert (older.lines.count(), older.lines.filter(is_reconciled=True).count()) == (17, 17)
    # Sixteen movements, and the EUR and USD receipts the bank converted into pounds.
    assert (latest.lines.count(), latest.lines.filter(is_reconciled=True).count()) == (18, 8)
    # The VAT paid on 7 November is on the latest statement, as the bank sent it.
    assert list(latest.lines.filter(date=dt.date(2026, 11, 7)).values_list("amount", flat=True)) == [D("-18617.00")]


# (first day, last day, day paid) of the quarters ended by 2026-12-01; each is paid on the 7th of the second month after.
QUARTERS = [
    (dt.date(2025, 4, 1), dt.date(2025, 6, 30), dt.date(2025, 8, 7)),
    (dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 11, 7)),
    (dt.date(2025, 10, 1), dt.date(2025, 12, 31), dt.date(2026, 2, 7)),
    (dt.date(2026, 1, 1), dt.date(2026, 3, 31), dt.date(2026, 5, 7)),
    (dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 8, 7)),
    (dt.date(2026, 7, 1), dt.date(2026, 9, 30), dt.date(2026, 11, 7)),
]


def test_vat_is_settled_every_quarter_and_paid_from_the_bank():
    company = _demo()
    returns = list(Entry.objects.filter(company=company, source_type="ledger.demo", source_id__startswith="vat-")
                   .order_by("date").values_list("date", "journal__code", "source_id"))
    assert returns == [(dt.date(2025, 5, 7), "BNK", "vat-brought-forward")] + [
        item for _first, last, paid in QUARTERS
        for item in ((last, "GEN", f"vat-{last:%Y-%m}"), (paid, "BNK", f"vat-{last:%Y-%m}-paid"))]
    # The opening's VAT due (the quarter to March 2025) is paid in May.
    assert _lines(company, "vat-brought-forward") == {"2200": D("3120.00"), "1400": D("-3120.00")}
    sales_and_bills = Line.objects.filter(company=company, entry__journal__code__in=["SAL", "PUR"])
    for first, last, _paid in QUARTERS:
        in_quarter = sales_and_bills.filter(date__gte=first, date__lte=last)
        collected = sum(in_quarter.filter(account__code="2200").values_list("credit", flat=True), D(0))
        deductible = sum(in_quarter.filter(account__code="1300").values_list("debit", flat=True), D(0))
        key = f"vat-{last:%Y-%m}"
        assert _lines(company, key) == {"2200": collected, "1300": -deductible, "2210": deductible - collected}
        assert _lines(company, f"{key}-paid") == {"2210": collected - deductible, "1400": deductible - collected}
        assert (_balance(company, "2200", last), _balance(company, "1300", last)) == (0, 0)
    assert _lines(company, "vat-2026-09") == {"2200": D("22543.40"), "1300": D("-3926.40"), "2210": D("-18617.00")}
    # Today: every return is paid; October and November's VAT waits for the end of the quarter.
    assert _balance(company, "2210", TODAY) == 0
    autumn = sales_and_bills.filter(date__gte=dt.date(2026, 10, 1))
    assert -_balance(company, "2200", TODAY) == sum(autumn.filter(account__code="2200").values_list("credit", flat=True))
    assert _balance(company, "1300", TODAY) == sum(autumn.filter(account__code="1300").values_list("debit", flat=True))


def test_the_current_year_has_an_approved_budget_per_cost_centre_and_the_reports_read_true(client):
    company = _demo()
    budget = Budget.objects.get(company=company)
    assert (budget.name, budget.fiscal_year.year, budget.status) == ("Operating budget", 2026, "approved")
    assert (budget.created_by.username, budget.approved_by.username) == ("accountant@demo.keel", "owner@demo.keel")
    rows = budget_grid(budget)
    assert [(row["account"].code, row["cost_centre"].code if row["cost_centre"] else "", row["total"])
            for row in rows] == [
        ("4000", "", D("74950.00")), ("4000", "SALES", D("63250.00")), ("4100", "", D("278920.00")),
        ("5200", "OPS", D("61740.00")), ("6000", "OPS", D("182370.00")), ("6010", "OPS", D("25160.00")),
        ("6100", "ADMIN", D("40560.00")), ("6110", "OPS", D("6340.00")), ("6200", "ADMIN", D("3700.00")),
        ("6210", "OPS", D("15610.00")), ("6600", "SALES", D("16330.00")),
    ]
    assert all(amount % 10 == 0 for row in rows for amount in row["amounts"])
    assert rows[6]["amounts"] == [D("3380.00")] * 12  # rent: 3,250.00 a month last year, + 4 %

    report = budget_versus_actual(budget, budget_range(budget, dt.date(2026, 4, 1), dt.date(2026, 11, 30)))
    assert {key: report.summary[key] for key in ("actual_income", "budget_income", "actual_expenses",
                                                 "budget_expenses")} == {
        "actual_income": D("310839.07"), "budget_income": D("297520.00"),
        "actual_expenses": D("222600.27"), "budget_expenses": D("229640.00")}
    sales = budget_versus_actual(budget, budget_range(budget, None, None, "SALES"))
    assert [(row.code, row.compare) for row in sales.rows if row.kind == "account"] == [
        ("4000", D("63250.00")), ("6600", D("16330.00"))]

    client.force_login(get_user_model().objects.get(username="owner@demo.keel"))
    page = client.get("/ledger/reports/profit-and-loss/?date_from=2026-04-01&date_to=2026-11-30")
    assert page.status_code == 200
    totals = [(row.label, row.amount) for row in page.context["report"].rows if row.kind in ("subtotal", "total")]
    assert totals[:3] == [("Total income (group)", D("310837.70")), ("Total financial and other results", D("1.37")),
                          ("Total income", D("310839.07"))]
    assert len({label for label, _ in totals}) == len(totals)
    page = client.get("/ledger/reports/balance-sheet/?date_to=2026-11-30")
    report = page.context["report"]
    totals = [(row.label, row.amount) for row in report.rows if row.kind in ("subtotal", "total", "info")]
    assert ("Total equity (group)", D("145489.93")) in totals and ("Total equity", D("233728.73")) in totals
    assert len({label for label, _ in totals}) == len(totals) and report.summary["is_balanced"]
    assert "Results of earlier years not yet closed" not in page.content.decode()  # FY2025 is closed
    page = client.get(f"/ledger/budgets/{budget.pk}/versus-actual/?date_from=2026-04-01&date_to=2026-11-30")
    assert page.status_code == 200 and "draft budget" not in page.content.decode()


def test_books_loaded_by_an_earlier_demo_get_the_returns_the_budget_and_the_close(monkeypatch):
    from keel.ledger import demo

    for name, nothing in (("vat_entries", lambda company, today: []), ("approved_budget", lambda *args: None),
                          ("close_ended_years", lambda *args: [])):
        monkeypatch.setattr(demo, name, nothing)
    company = _demo()  # as the demo made the books before it had these parts
    assert not Entry.objects.filter(company=company, source_id__startswith="vat-").exists()
    assert not Budget.objects.filter(company=company).exists()
    assert FiscalYear.objects.get(company=company, year=2025).status == "open"
    monkeypatch.undo()
    _demo()
    assert Entry.objects.filter(company=company, source_id__startswith="vat-").count() == 13
    assert Budget.objects.get(company=company).status == "approved"
    assert FiscalYear.objects.get(company=company, year=2025).status == "closed"
    assert (_balance(company, "2200", dt.date(2026, 9, 30)), _balance(company, "2210", TODAY)) == (0, 0)
    counts = _counts(company)
    _demo()
    assert _counts(company) == counts


def test_the_demo_has_a_usd_invoice_paid_at_another_rate_to_settle_and_one_still_open():
    from keel.ledger.services.settlements import list_open_items, settle_items

    company = _demo()
    lines = list(list_open_items(company, foreign_only=True).order_by("date", "id"))
    assert [(line.entry.reference, line.amount_currency) for line in lines] == [
        ("INV-US-1", D("4800.00")), ("INV-US-2", D("2150.00")), ("INV-US-1", D("-4800.00"))]
    invoice, payment = lines[0], lines[2]
    booked = invoice.debit - payment.credit
    settlement = settle_items(actor=None, company=company, lines=[invoice.pk, payment.pk], check_permission=False)
    assert settlement.difference == -booked and settlement.difference != 0
    assert [line.entry.reference for line in list_open_items(company, foreign_only=True)] == ["INV-US-2"]


def test_foreign_invoices_are_paid_into_the_pound_and_dollar_accounts_and_every_bank_agrees_with_the_books(
        client_for):
    from keel.ledger.models import Balance
    from keel.ledger.models.bank import BankAccount
    from keel.ledger.services.bank import ledger_balance
    from keel.ledger.services.settlements import list_settlements

    company = _demo()
    # Revenue in pounds; the receivable in the invoice's currency.
    for reference, currency, amount in (("INV-US-1", "USD", "4800.00"), ("INV-US-2", "USD", "2150.00"),
                                        ("INV-EU-1", "EUR", "3600.00"), ("INV-US-3", "USD", "1250.00")):
        invoice = Entry.objects.get(company=company, journal__code="SAL", reference=reference)
        receivable, revenue = invoice.lines.order_by("position")
        assert (receivable.currency_id, receivable.amount_currency) == (currency, D(amount))
        assert (revenue.account.code, revenue.currency_id, revenue.credit) == ("4100", "GBP", receivable.debit)
    # INV-EU-1 and INV-US-3 were converted by the bank into pounds and settled (realized difference).
    for reference in ("INV-EU-1", "INV-US-3"):
        receipt = Entry.objects.get(company=company, journal__code="BNK", reference=reference)
        bank, receivable = receipt.lines.order_by("position")
        assert (bank.account.code, bank.currency_id, bank.debit) == ("1400", "GBP", receivable.credit)
    settled = {settlement.currency_id for settlement in list_settlements(company)}
    assert settled == {"EUR", "USD"}
    # INV-US-1 was paid into the dollar account.
    dollars = BankAccount.objects.get(company=company, currency_id="USD")
    assert (dollars.account.code, ledger_balance(dollars, TODAY)) == ("1420", D("4800.00"))

    owner = get_user_model().objects.get(username="owner@demo.keel")
    page = client_for(owner).get("/ledger/bank/accounts/").content.decode()
    report = {row.code: row.closing for row in trial_balance(company, dt.date(2025, 4, 1), TODAY).rows}
    for bank_account in BankAccount.objects.filter(company=company):
        # Every line on a bank account's ledger account is in its currency: the page and the books
        # read the same money, in its currency and (trial balance) in pounds.
        currencies = set(Balance.objects.filter(company=company, account=bank_account.account)
                         .values_list("currency_id", flat=True))
        assert currencies == {bank_account.currency_id}
        balance = ledger_balance(bank_account, TODAY)
        assert f"{balance:,.2f} {bank_account.currency_id}" in page
        if bank_account.currency_id == "GBP":
            assert report[bank_account.account.code] == balance
        else:
            receipt = Line.objects.get(company=company, account=bank_account.account)
            assert report[bank_account.account.code] == receipt.debit and receipt.amount_currency == balance
