"""The ledger's demo step: a realistic set of books for Keel Demo Ltd.

It covers the previous fiscal year and the current one up to today (so at least a full
year of history, whatever today is): opening balances on the first day, then every month
sales invoices to customers (receivable lines with the party and a due date, VAT on its
own line), supplier bills, rent, salaries with payroll taxes, customer receipts and
supplier payments on the bank journal, and some costs analysed by cost centre. Figures
come from a seeded generator: the same run gives the same books, relative to today.

Everything is posted through the posting service in one `post_entries_bulk` call (about
1,500 lines, well under a second). Idempotent: the opening entry carries the source
`ledger.demo:opening`; when it exists the step does not post them again.

Then, each part also idempotent on its own (so books loaded by an earlier version get them too):

- the VAT returns: the VAT due brought forward is paid in the first quarter, and every
  quarter of the fiscal year that has ended moves the tax collected and the tax deductible
  (their balances at the quarter's end, read from the ledger) into the tax payable to the
  authorities, paid from the bank on the 7th of the second month after (sources
  `ledger.demo:vat-<yyyy-mm>` and `...-paid`);
- an approved budget for the current fiscal year ("Operating budget"): last year's figures of
  the main income and expense accounts, per cost centre and month, with some growth;
- the year-end close (`close_fiscal_year`) of every fiscal year that has ended;
- the filed tax returns (`file_tax_return`) of every quarter that has ended but the latest,
  which the return page then offers to file;
- customer invoices in USD and EUR with revenue in pounds (`foreign_sales`): two paid into the
  pound account (converted by the bank) and settled, one paid into the US dollar account and
  left to settle, one open;
- the bank statements (`bank_demo`), partly reconciled.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from keel.core.db_money import MoneySum
from keel.core.demo import DEMO_CODE, DemoContext, register_demo_step
from keel.core.models import Company, Party
from keel.core.money import round_amount
from keel.ledger.choices import AccountType, PeriodStatus
from keel.ledger.models import Account, CostCentre, Entry, FiscalYear, Line, Period, TaxCode
from keel.ledger.models.budgets import Budget
from keel.ledger.selectors import movements
from keel.ledger.services.budgets import (
    BudgetRowInput,
    approve_budget,
    create_budget,
    set_budget_rows,
)
from keel.ledger.services.chart import apply_chart_template, create_cost_centre
from keel.ledger.services.closing import SOURCE_TYPE as CLOSING_SOURCE_TYPE
from keel.ledger.services.closing import close_fiscal_year
from keel.ledger.services.periods import ensure_fiscal_year, month_bounds
from keel.ledger.services.posting import EntryInput, LineInput, post_entries_bulk, post_entry

SOURCE_TYPE = "ledger.demo"
CENT = Decimal("0.01")
VAT = Decimal("0.20")
COST_CENTRES = {"SALES": "Sales and marketing", "OPS": "Operations", "ADMIN": "Administration"}
# (account, label, monthly net amount range, cost centre) of recurring supplier costs
SUPPLIER_COSTS = [
    ("6110", "Energy", (380, 620), "OPS"),
    ("6210", "Cloud hosting and software", (900, 1400), "OPS"),
    ("6200", "Office supplies", (120, 480), "ADMIN"),
    ("6600", "Online advertising", (600, 1800), "SALES"),
    ("5200", "Subcontracted services", (2500, 6500), "OPS"),
]
ZERO = Decimal(0)
# The VAT of the quarter before the books start, owed on the opening day (paid in the first quarter).
OPENING_VAT_DUE = Decimal("3120.00")
TAX_COLLECTED, TAX_DEDUCTIBLE, TAX_PAYABLE, BANK = "2200", "1300", "2210", "1400"
VAT_PAYMENT_DAY = 7  # of the second month after the quarter (a UK VAT return is due a month and 7 days after)
BUDGET_NAME = "Operating budget"
# Last year's monthly figures x this, rounded to tens; accounts under BUDGET_MINIMUM a year are left out.
BUDGET_GROWTH = {AccountType.INCOME: Decimal("1.08"), AccountType.EXPENSE: Decimal("1.04")}
BUDGET_MINIMUM = Decimal("1000")


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _months(start: dt.date, today: dt.date) -> list[dt.date]:
    months, month = [], start
    while month <= today:
        months.append(month)
        month = month_bounds(month)[1] + dt.timedelta(days=1)
    return months


def _tax_codes(company: Company) -> tuple[TaxCode | None, TaxCode | None]:
    """The 20 % sales and purchase codes, when the tax set-up made them (optional)."""
    codes = list(TaxCode.objects.for_company(company).filter(is_active=True, rate=20))
    sales = next((c for c in codes if getattr(c, "kind", "sales") == "sales"), None)
    purchases = next((c for c in codes if getattr(c, "kind", "") in ("purchase", "purchases")), None)
    return sales, purchases


def _parties(company: Company, role: str, count: int) -> list[Party]:
    # Sorted here, not by the database: PostgreSQL's collation orders names otherwise than
    # SQLite, and the demo's books must be the same on both.
    parties = Party.objects.for_company(company).filter(roles__role=role, is_active=True).distinct()
    return sorted(parties, key=lambda party: (party.name, party.pk))[:count]


def build_entries(company: Company, today: dt.date) -> list[EntryInput]:
    """The demo's entries for `company` from the start of the previous fiscal year to today."""
    random_ = random.Random(f"keel-demo-ledger-{company.code}")
    first_year = company.fiscal_year_of(today) - 1
    start = company.fiscal_year_bounds(first_year)[0]
    customers = _parties(company, "customer", 8)
    suppliers = _parties(company, "supplier", 6)
    landlord = (Party.objects.for_company(company).filter(name__icontains="Property").first()
                or (suppliers[0] if suppliers else None))
    sales_tax, purchase_tax = _tax_codes(company)
    entries: list[EntryInput] = [EntryInput(
        journal="OPN", date=start, reference="OPENING", description="Opening balances",
        source_type=SOURCE_TYPE, source_id="opening",
        lines=[
            LineInput(account="1400", debit=Decimal("48250.00"), label="Bank"),
            LineInput(account="1030", debit=Decimal("18400.00"), label="IT equipment"),
            LineInput(account="1010", debit=Decimal("26500.00"), label="Equipment"),
            # Open items are per party: the opening balances are the first customer's and supplier's,
            # falling due within the month.
            LineInput(account="1200", debit=Decimal("14820.00"), party=customers[0] if customers else None,
                      due_date=start + dt.timedelta(days=30), label="Customer invoices outstanding"),
            LineInput(account="2100", credit=Decimal("6930.00"), party=suppliers[0] if suppliers else None,
                      due_date=start + dt.timedelta(days=30), label="Supplier bills outstanding"),
            LineInput(account=TAX_COLLECTED, credit=OPENING_VAT_DUE, label="VAT due"),
            LineInput(account="3000", credit=Decimal("50000.00"), label="Share capital"),
            LineInput(account="3100", credit=Decimal("47920.00"), label="Retained earnings"),
        ],
    )]

    def bank(day, lines, reference, description):
        if day <= today:
            entries.append(EntryInput("BNK", day, lines, reference, description, SOURCE_TYPE, reference))

    months = _months(start, today)
    previous_open: list[tuple[Party | None, Decimal, dt.date]] = []  # last month's invoices, paid this month
    previous_bills: list[tuple[Party | None, Decimal, dt.date]] = []
    for index, month in enumerate(months):
        last_day = month_bounds(month)[1]
        tag = f"{month:%Y%m}"
        # Customers pay last month's invoices around their due date.
        for number, (party, gross, due) in enumerate(previous_open):
            day = min(due + dt.timedelta(days=random_.randint(-3, 6)), last_day)
            bank(day, [LineInput(account="1400", debit=gross, label="Customer receipt"),
                       LineInput(account="1200", credit=gross, party=party, label="Customer receipt")],
                 f"RCP-{tag}-{number + 1}", f"Receipt from {party.name if party else 'customer'}")
        for number, (party, gross, due) in enumerate(previous_bills):
            day = min(due, last_day)
            bank(day, [LineInput(account="2100", debit=gross, party=party, label="Supplier payment"),
                       LineInput(account="1400", credit=gross, label="Supplier payment")],
                 f"PMT-{tag}-{number + 1}", f"Payment to {party.name if party else 'supplier'}")
        previous_open, previous_bills = [], []
        # Sales invoices: five or six customers a month, with a seasonal lift before year end.
        for number in range(5 + index % 2):
            day = month + dt.timedelta(days=min(2 + number * 5 + random_.randint(0, 3), 27))
            if day > today:
                break
            party = customers[(index * 3 + number) % len(customers)] if customers else None
            account = "4100" if number % 3 else "4000"
            net = _money(random_.randint(3500, 9200) * (Decimal("1.15") if month.month in (10, 11) else 1))
            tax = _money(net * VAT)
            due = day + dt.timedelta(days=30)
            entries.append(EntryInput("SAL", day, [
                LineInput(account="1200", debit=net + tax, party=party, due_date=due, label="Invoice"),
                LineInput(account=account, credit=net, tax_code=sales_tax.pk if sales_tax else None,
                          tax_role="base" if sales_tax else "", label="Services" if account == "4100" else "Goods",
                          cost_centre="SALES" if number == 0 else None),
                LineInput(account="2200", credit=tax, tax_code=sales_tax.pk if sales_tax else None,
                          tax_role="tax" if sales_tax else "", label="VAT 20 %"),
            ], f"INV-{tag}-{number + 1:02d}", f"Invoice to {party.name if party else 'customer'}",
                SOURCE_TYPE, f"INV-{tag}-{number + 1:02d}"))
            previous_open.append((party, net + tax, due))
        # Supplier bills.
        for number, (account, label, (low, high), centre) in enumerate(SUPPLIER_COSTS):
            day = month + dt.timedelta(days=min(5 + number * 4, 27))
            if day > today:
                break
            party = suppliers[number % len(suppliers)] if suppliers else None
            net = _money(random_.randint(low, high))
            tax = _money(net * VAT)
            due = day + dt.timedelta(days=30)
            entries.append(EntryInput("PUR", day, [
                LineInput(account=account, debit=net, cost_centre=centre, label=label,
                          tax_code=purchase_tax.pk if purchase_tax else None, tax_role="base" if purchase_tax else ""),
                LineInput(account="1300", debit=tax, label="VAT 20 %", tax_code=purchase_tax.pk if purchase_tax else None,
                          tax_role="tax" if purchase_tax else ""),
                LineInput(account="2100", credit=net + tax, party=party, due_date=due, label=label),
            ], f"BILL-{tag}-{number + 1:02d}", f"{label} ({party.name if party else 'supplier'})",
                SOURCE_TYPE, f"BILL-{tag}-{number + 1:02d}"))
            previous_bills.append((party, net + tax, due))
        # Rent, billed and paid on the first working days.
        rent_day = month + dt.timedelta(days=1)
        if rent_day <= today:
            entries.append(EntryInput("PUR", rent_day, [
                LineInput(account="6100", debit=Decimal("3250.00"), cost_centre="ADMIN", label="Office rent"),
                LineInput(account="2100", credit=Decimal("3250.00"), party=landlord, label="Office rent"),
            ], f"RENT-{tag}", "Office rent", SOURCE_TYPE, f"RENT-{tag}"))
            bank(rent_day + dt.timedelta(days=2), [
                LineInput(account="2100", debit=Decimal("3250.00"), party=landlord, label="Rent payment"),
                LineInput(account="1400", credit=Decimal("3250.00"), label="Rent payment"),
            ], f"RENTPMT-{tag}", "Rent payment")
        # Salaries on the 25th, paid the same day; payroll taxes paid on the 19th of next month.
        pay_day = month.replace(day=25)
        if pay_day <= today:
            gross = _money(Decimal("14200.00") + index * 75)
            charges = _money(gross * Decimal("0.138"))
            withheld = _money(gross * Decimal("0.22"))
            entries.append(EntryInput("PAY", pay_day, [
                LineInput(account="6000", debit=gross, cost_centre="OPS", label="Gross salaries"),
                LineInput(account="6010", debit=charges, cost_centre="OPS", label="Employer charges"),
                LineInput(account="2300", credit=gross - withheld, label="Net salaries"),
                LineInput(account="2310", credit=withheld + charges, label="Payroll taxes"),
            ], f"PAYRUN-{tag}", f"Payroll {month:%B %Y}", SOURCE_TYPE, f"PAYRUN-{tag}"))
            bank(pay_day, [LineInput(account="2300", debit=gross - withheld, label="Salaries paid"),
                           LineInput(account="1400", credit=gross - withheld, label="Salaries paid")],
                 f"SALPMT-{tag}", "Salaries paid")
            tax_day = month_bounds(month)[1] + dt.timedelta(days=19)
            bank(tax_day, [LineInput(account="2310", debit=withheld + charges, label="Payroll taxes paid"),
                           LineInput(account="1400", credit=withheld + charges, label="Payroll taxes paid")],
                 f"PAYETAX-{tag}", "Payroll taxes paid")
        # Bank charges at the end of the month.
        if last_day <= today:
            fee = _money(Decimal(random_.randint(1800, 4200)) / 100)
            bank(last_day, [LineInput(account="6800", debit=fee, label="Bank charges", cost_centre="ADMIN"),
                            LineInput(account="1400", credit=fee, label="Bank charges")],
                 f"FEES-{tag}", "Bank charges")
    return entries


def _month_start(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def vat_entries(company: Company, today: dt.date) -> list[EntryInput]:
    """The VAT returns of the demo's quarters that have ended by `today` and are not posted yet.

    The VAT due on the opening day is paid on the 7th of the second month; each ended quarter
    (of the fiscal year: April-June, ...) moves the balances of tax collected and tax
    deductible at its end into the tax payable to the authorities, paid (or refunded) on the
    bank on the 7th of the second month after it. Balances are read from the ledger, less what
    the returns built here take out before they are posted, so they are the ledger's figures.
    """
    done = set(Entry.objects.for_company(company).filter(source_type=SOURCE_TYPE, source_id__startswith="vat-")
               .values_list("source_id", flat=True))
    start = company.fiscal_year_bounds(company.fiscal_year_of(today) - 1)[0]
    entries: list[EntryInput] = []
    pending = {TAX_COLLECTED: ZERO, TAX_DEDUCTIBLE: ZERO}  # debit - credit of the entries below

    def add(key: str, journal: str, day: dt.date, lines: list[LineInput], description: str) -> None:
        if key in done or day > today:
            return
        entries.append(EntryInput(journal, day, lines, key.upper(), description, SOURCE_TYPE, key))
        for line in lines:
            if line.account in pending:
                pending[line.account] += line.debit - line.credit

    ids = dict(Account.objects.for_company(company).filter(code__in=list(pending)).values_list("code", "pk"))
    if len(ids) < len(pending):
        return entries
    add("vat-brought-forward", "BNK", _month_start(start, 1) + dt.timedelta(days=VAT_PAYMENT_DAY - 1), [
        LineInput(account=TAX_COLLECTED, debit=OPENING_VAT_DUE, label="VAT return paid"),
        LineInput(account=BANK, credit=OPENING_VAT_DUE, label="VAT return paid"),
    ], f"VAT return to {start - dt.timedelta(days=1):%B %Y} paid")
    quarter = 0
    while (end := _month_start(start, 3 * quarter + 3) - dt.timedelta(days=1)) < today:
        first = _month_start(start, 3 * quarter)
        quarter += 1
        key, period = f"vat-{end:%Y-%m}", f"{first:%B} – {end:%B %Y}"
        if key in done:
            net = sum((credit - debit for debit, credit in Line.objects.for_company(company).filter(
                entry__source_type=SOURCE_TYPE, entry__source_id=key, account__code=TAX_PAYABLE)
                .values_list("debit", "credit")), ZERO)
        else:
            totals = movements(company, None, end)
            debit, credit = totals.get(ids[TAX_COLLECTED], (ZERO, ZERO))
            collected = credit - debit - pending[TAX_COLLECTED]
            debit, credit = totals.get(ids[TAX_DEDUCTIBLE], (ZERO, ZERO))
            deductible = debit - credit + pending[TAX_DEDUCTIBLE]
            net = collected - deductible
            lines = [LineInput(account=TAX_COLLECTED, debit=collected, label="VAT collected"),
                     LineInput(account=TAX_DEDUCTIBLE, credit=deductible, label="VAT deductible"),
                     LineInput(account=TAX_PAYABLE, credit=net, label="VAT payable") if net >= 0
                     else LineInput(account=TAX_PAYABLE, debit=-net, label="VAT refund due")]
            lines = [line for line in lines if line.debit or line.credit]
            if lines:
                add(key, "GEN", end, lines, f"VAT return {period}")
        if net:
            paid = ([LineInput(account=TAX_PAYABLE, debit=net, label="VAT paid"),
                     LineInput(account=BANK, credit=net, label="VAT paid")] if net > 0 else
                    [LineInput(account=BANK, debit=-net, label="VAT refunded"),
                     LineInput(account=TAX_PAYABLE, credit=-net, label="VAT refunded")])
            add(f"{key}-paid", "BNK", _month_start(end, 2) + dt.timedelta(days=VAT_PAYMENT_DAY - 1), paid,
                f"VAT return {period} {'paid' if net > 0 else 'refunded'}")
    return entries


def file_past_returns(company: Company, actor, today: dt.date) -> int:
    """File the returns of the quarters (of the filing frequency) from the previous fiscal year's
    start up to the one before the latest that has ended; a period filed already stays."""
    from keel.ledger.services.taxes import file_tax_return, filing_period, period_to_file

    latest = period_to_file(company, today)
    day = company.fiscal_year_bounds(company.fiscal_year_of(today) - 1)[0]
    filed = 0
    while (period := filing_period(company, day))[1] < latest[0]:
        _tax_return, created = file_tax_return(actor=actor, company=company, date_from=period[0],
                                               date_to=period[1], check_permission=False)
        filed += created
        day = period[1] + dt.timedelta(days=1)
    return filed


def budget_rows(company: Company, fiscal_year: FiscalYear) -> list[BudgetRowInput]:
    """Rows for a budget of the year after `fiscal_year`: per income and expense account and cost
    centre, each month's posted figure of `fiscal_year` (its closing entry aside) with growth."""
    periods = {start: index for index, start in enumerate(
        Period.objects.for_company(company).filter(fiscal_year=fiscal_year).order_by("start")
        .values_list("start", flat=True))}
    figures: dict[tuple[str, str], list[Decimal]] = {}
    kinds: dict[str, str] = {}
    lines = (Line.objects.for_company(company).posted()
             .filter(date__gte=fiscal_year.start, date__lte=fiscal_year.end,
                     account__account_type__in=list(BUDGET_GROWTH))
             .exclude(entry__source_type=CLOSING_SOURCE_TYPE)
             .values("account__code", "account__account_type", "cost_centre__code", "period__start")
             .annotate(d=MoneySum("debit"), c=MoneySum("credit"))
             .values_list("account__code", "account__account_type", "cost_centre__code", "period__start", "d", "c")
             .order_by())
    for code, kind, centre, period_start, debit, credit in lines:
        if period_start not in periods:
            continue
        amounts = figures.setdefault((code, centre or ""), [ZERO] * len(periods))
        natural = (debit or ZERO) - (credit or ZERO)
        amounts[periods[period_start]] += -natural if kind == AccountType.INCOME else natural
        kinds[code] = kind
    rows = []
    for (code, centre), amounts in sorted(figures.items()):
        if sum(amounts, ZERO) < BUDGET_MINIMUM:
            continue
        growth = BUDGET_GROWTH[kinds[code]]
        planned = [(amount * growth / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10 for amount in amounts]
        rows.append(BudgetRowInput(account=code, cost_centre=centre or None, months=planned))
    return rows


def approved_budget(company: Company, actor, approver, year: int) -> Budget | None:
    """The current fiscal year's operating budget from last year's figures, approved; made once."""
    fiscal_year = FiscalYear.objects.for_company(company).filter(year=year).first()
    previous = FiscalYear.objects.for_company(company).filter(year=year - 1).first()
    if fiscal_year is None or previous is None:
        return None
    existing = Budget.objects.for_company(company).filter(fiscal_year=fiscal_year, name=BUDGET_NAME).first()
    if existing is not None:
        return existing
    rows = budget_rows(company, previous)
    if not rows:
        return None
    budget = create_budget(actor=actor, company=company, name=BUDGET_NAME, fiscal_year=fiscal_year,
                           description=f"FY{year - 1}'s figures per account, cost centre and month, income +8 %, "
                                       "costs +4 %, rounded to tens.", check_permission=False)
    set_budget_rows(actor=actor, budget=budget, rows=rows, replace=True, check_permission=False)
    return approve_budget(actor=approver, budget=budget, check_permission=False)


def close_ended_years(company: Company, actor, today: dt.date) -> list[FiscalYear]:
    """Close (the year-end service) every open fiscal year that ended before `today`, oldest first."""
    years = list(FiscalYear.objects.for_company(company).filter(status=PeriodStatus.OPEN, end__lt=today)
                 .order_by("year"))
    for year in years:
        close_fiscal_year(actor=actor, company=company, fiscal_year=year, check_permission=False)
    return years


# Customers invoiced in USD and EUR (revenue in pounds), paid into the pound account (the
# bank converts; the realized difference is settled) or into the dollar account; one USD
# payment is left for the user to settle and one invoice open: something for the foreign open
# items, the settlements and the month-end revaluation.
USD_SOURCE = "usd-export"
USD_BANK_ACCOUNT, USD_BANK_NAME = "1420", "US dollar account"
BANK_SPREAD = Decimal("0.995")  # what the bank keeps when it converts a foreign receipt into pounds


def usd_bank_account(company: Company, actor):
    """The dollar bank account on its own ledger account (which takes USD lines only)."""
    from keel.ledger.models import AccountGroup
    from keel.ledger.models.bank import BankAccount
    from keel.ledger.services.bank import create_bank_account
    from keel.ledger.services.chart import create_account

    existing = BankAccount.objects.for_company(company).filter(currency_id="USD").first()
    if existing is not None:
        return existing
    account = Account.objects.for_company(company).filter(code=USD_BANK_ACCOUNT).first()
    if account is None:
        bank_group = AccountGroup.objects.for_company(company).filter(
            pk=Account.objects.for_company(company).filter(code=BANK).values("group_id")[:1]).first()
        account = create_account(actor=actor, company=company, code=USD_BANK_ACCOUNT, name="Bank, US dollar account",
                                 account_type=AccountType.ASSET, role="bank", group=bank_group, currency="USD",
                                 check_permission=False)
    return create_bank_account(actor=actor, company=company, name=USD_BANK_NAME, account=account, currency="USD",
                               check_permission=False)


def foreign_sales(company: Company, actor, today: dt.date) -> list[Entry]:
    """Invoices in USD and EUR at their day's rate against revenue in pounds: INV-US-1 (40 days
    ago) paid into the dollar account 5 days ago and left to settle, INV-US-2 (12 days ago) open,
    INV-EU-1 and INV-US-3 paid into the pound account (the bank's conversion) and settled. None
    when the demo made them already."""
    from keel.core.services.currencies import get_rate
    from keel.ledger.services.settlements import settle_items

    if Entry.objects.for_company(company).filter(source_type=SOURCE_TYPE, source_id=USD_SOURCE).exists():
        return []
    customers = _parties(company, "customer", 2)
    if not customers:
        return []
    source = {"source_type": SOURCE_TYPE, "source_id": USD_SOURCE}
    base = company.base_currency_id

    def post(day: dt.date, journal: str, reference: str, lines: list[LineInput]) -> Entry:
        return post_entry(actor=actor, company=company, journal=journal, date=day, reference=reference, lines=lines,
                          check_permission=False, **source)

    def value(currency: str, amount: Decimal, day: dt.date) -> Decimal:
        return round_amount(amount * get_rate(company=company, currency=currency, on_date=day), base)

    def invoice(customer: Party, days_ago: int, number: str, currency: str, amount: str) -> Entry:
        foreign, day = Decimal(amount), today - dt.timedelta(days=days_ago)
        return post(day, "SAL", number, [
            LineInput(account="1200", currency=currency, amount_currency=foreign, party=customer.pk, label=number,
                      due_date=day + dt.timedelta(days=30)),
            LineInput(account="4100", credit=value(currency, foreign, day), label=f"Consulting, {number}")])

    def paid_in_pounds(customer: Party, sale: Entry, days_ago: int, currency: str, amount: str) -> Entry:
        foreign, day = Decimal(amount), today - dt.timedelta(days=days_ago)
        credited = round_amount(value(currency, foreign, day) * BANK_SPREAD, base)
        payment = post(day, "BNK", sale.reference, [
            LineInput(account=BANK, debit=credited, label=f"{currency} {foreign} from {customer.name}"[:200]),
            LineInput(account="1200", currency=currency, amount_currency=-foreign, credit=credited, party=customer.pk,
                      label=f"{sale.reference} paid")])
        items = Line.objects.for_company(company).filter(entry__in=[sale, payment], account__code="1200")
        settle_items(actor=actor, company=company, lines=list(items.values_list("pk", flat=True)), date=day,
                     check_permission=False)
        return payment

    first, second = customers[0], customers[-1]
    dollars = usd_bank_account(company, actor)
    entries = [invoice(first, 40, "INV-US-1", "USD", "4800.00"), invoice(first, 12, "INV-US-2", "USD", "2150.00")]
    entries.append(post(today - dt.timedelta(days=5), "BNK", "INV-US-1", [
        LineInput(account=dollars.account_id, currency="USD", amount_currency=Decimal("4800.00"),
                  label=f"Wire from {first.name}"[:200]),
        LineInput(account="1200", currency="USD", amount_currency=Decimal("-4800.00"), party=first.pk,
                  label="INV-US-1 paid")]))
    euro_sale = invoice(second, 30, "INV-EU-1", "EUR", "3600.00")
    dollar_sale = invoice(second, 35, "INV-US-3", "USD", "1250.00")
    entries += [euro_sale, paid_in_pounds(second, euro_sale, 10, "EUR", "3600.00"),
                dollar_sale, paid_in_pounds(second, dollar_sale, 15, "USD", "1250.00")]
    return entries


@register_demo_step
def ledger_demo(demo: DemoContext) -> None:
    """Post a year (and more) of books for Keel Demo Ltd, with its VAT returns, an approved budget,
    the past year closed and bank statements; what a second run finds made, it makes no more."""
    company = demo.companies.get(DEMO_CODE)
    if company is None:
        return
    actor = demo.users.get("accountant@demo.keel") or demo.owner_of(company)
    current = company.fiscal_year_of(demo.today)
    if not Entry.objects.for_company(company).filter(source_type=SOURCE_TYPE, source_id="opening").exists():
        apply_chart_template(company=company, actor=actor, check_permission=False)
        for year in (current - 1, current):
            ensure_fiscal_year(company=company, fiscal_year=year, actor=actor)
        existing = set(CostCentre.objects.for_company(company).values_list("code", flat=True))
        for code, name in COST_CENTRES.items():
            if code not in existing:
                create_cost_centre(actor=actor, company=company, code=code, name=name, check_permission=False)
        post_entries_bulk(actor=actor, company=company, entries=build_entries(company, demo.today),
                          check_permission=False)
    returns = vat_entries(company, demo.today)
    if returns:
        post_entries_bulk(actor=actor, company=company, entries=returns, check_permission=False)
    approved_budget(company, actor, demo.owner_of(company), current)
    close_ended_years(company, actor, demo.today)
    file_past_returns(company, actor, demo.today)
    foreign_sales(company, actor, demo.today)
    from keel.ledger.bank_demo import load_bank_demo

    load_bank_demo(company, actor)
