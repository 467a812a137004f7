"""Year-end closing: move the year's result into retained earnings and close the year.

`close_fiscal_year` posts one closing entry, dated the last day of the fiscal year, that
brings every income and expense account's balance for the year to zero against the
company's retained-earnings account (role `retained_earnings`), then closes every open
period of the year and marks the fiscal year closed. Decisions:

- It refuses while the year has draft entries dated in it: once the periods are closed a
  draft could never be posted there, and the year's result would silently leave it out.
  Post or delete the drafts first (`fiscal_year.has_drafts`, with their count).
- It refuses a year already closed (`fiscal_year.already_closed`) and a year whose last
  period is not open (the closing entry is dated in it: reopen it with a reason first).
- The closing entry goes to the chart's opening/closing journal (kind `opening`), else
  the general journal; it carries source `ledger.fiscal_year:<id>` so it can be found.
- Income and expense accounts are closed in the company's currency only (their balances
  are what the profit and loss shows); foreign-currency amounts are not carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from keel.core.activity import record
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import round_amount
from keel.core.transitions import apply_transition
from keel.ledger.choices import (
    CLOSING_SOURCE_TYPE,
    AccountRole,
    AccountType,
    EntryStatus,
    JournalKind,
    PeriodStatus,
)
from keel.ledger.events import FISCAL_YEAR_CLOSED, PERIOD_CLOSED
from keel.ledger.models import Account, Entry, FiscalYear, Journal, Period
from keel.ledger.selectors import movements
from keel.ledger.services._common import require
from keel.ledger.services.posting import LineInput, post_entry
from keel.ledger.transitions import FISCAL_YEAR_TRANSITIONS, PERIOD_TRANSITIONS

ZERO = Decimal(0)
SOURCE_TYPE = CLOSING_SOURCE_TYPE


@dataclass
class ClosingResult:
    fiscal_year: FiscalYear
    entry: Entry | None  # None when the year had no income or expense
    result: Decimal  # profit (positive) or loss (negative) moved to retained earnings
    periods_closed: int


def closing_journal(company: Company) -> Journal | None:
    """The journal closing entries go to: the opening/closing journal, else the general one."""
    journals = Journal.objects.for_company(company).filter(is_active=True)
    return (journals.filter(kind=JournalKind.OPENING).order_by("code").first()
            or journals.filter(kind=JournalKind.GENERAL).order_by("code").first())


def get_fiscal_year(*, company: Company, year: int) -> FiscalYear:
    from keel.core.exceptions import NotFound

    fiscal_year = FiscalYear.objects.for_company(company).filter(year=year).first()
    if fiscal_year is None:
        raise NotFound(f"{company.code} has no fiscal year {year}.", code="fiscal_year.not_found", field="fiscal_year")
    return fiscal_year


def close_fiscal_year(*, actor, company: Company, fiscal_year: FiscalYear | int,
                      check_permission: bool = True) -> ClosingResult:
    """Post the closing entry of the year and close its periods and the year itself."""
    require(actor, company, "ledger.close", check_permission=check_permission)
    if isinstance(fiscal_year, int):
        fiscal_year = get_fiscal_year(company=company, year=fiscal_year)
    if fiscal_year.company_id != company.pk:
        raise ValidationFailed("That fiscal year belongs to another company.", code="fiscal_year.other_company",
                               field="fiscal_year")
    with transaction.atomic():
        year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
        if year.status != PeriodStatus.OPEN:
            raise ValidationFailed(f"Fiscal year {year.year} is already {year.status}.",
                                   code="fiscal_year.already_closed", field="fiscal_year")
        # Lock the periods before adding up the year: a posting holds its periods FOR SHARE
        # until it commits, so this waits for one in flight (and the sums below then see it),
        # and a later one waits for this close and finds its period closed. The closing entry
        # itself posts from this transaction, which the lock does not block.
        periods = list(Period.objects.for_company(company).filter(fiscal_year=year)
                       .select_for_update().order_by("start"))
        drafts = Entry.objects.for_company(company).filter(
            status=EntryStatus.DRAFT, date__gte=year.start, date__lte=year.end).count()
        if drafts:
            raise ValidationFailed(
                f"Fiscal year {year.year} has {drafts} draft entr{'y' if drafts == 1 else 'ies'}: "
                "post or delete them before closing the year.",
                code="fiscal_year.has_drafts", field="fiscal_year", extra={"drafts": drafts},
            )
        if not periods or periods[-1].status != PeriodStatus.OPEN:
            name = periods[-1].name if periods else str(year.year)
            raise ValidationFailed(
                f"The last period of the year ({name}) is not open; the closing entry is dated in it. "
                "Reopen it (with a reason) first.",
                code="fiscal_year.last_period_closed", field="fiscal_year",
            )
        retained = Account.objects.for_company(company).filter(role=AccountRole.RETAINED_EARNINGS).first()
        if retained is None:
            raise ValidationFailed("The chart has no retained-earnings account (role 'retained_earnings').",
                                   code="fiscal_year.no_retained_earnings", field="fiscal_year")
        journal = closing_journal(company)
        if journal is None:
            raise ValidationFailed("The company has no opening or general journal for the closing entry.",
                                   code="fiscal_year.no_journal", field="fiscal_year")
        totals = movements(company, year.start, year.end)
        profit_and_loss = Account.objects.for_company(company).filter(
            pk__in=list(totals), account_type__in=[AccountType.INCOME, AccountType.EXPENSE]).order_by("code")
        lines: list[LineInput] = []
        net = ZERO  # debit minus credit of the P&L accounts over the year
        for account in profit_and_loss:
            debit, credit = totals[account.pk]
            balance = debit - credit
            if not balance:
                continue
            net += balance
            label = f"Year-end close FY{year.year}"
            if balance > 0:
                lines.append(LineInput(account=account.pk, credit=balance, label=label))
            else:
                lines.append(LineInput(account=account.pk, debit=-balance, label=label))
        entry = None
        if lines:
            label = f"Result of FY{year.year}"
            lines.append(LineInput(account=retained.pk, debit=net, label=label) if net > 0
                         else LineInput(account=retained.pk, credit=-net, label=label))
            if not net:
                lines.pop()  # income equals expense: nothing reaches retained earnings
            # Deactivated P&L accounts still carry the year's figures: close them too.
            entry = post_entry(
                actor=actor, company=company, journal=journal, date=year.end, lines=lines,
                reference=f"FY{year.year}-CLOSE", description=f"Year-end closing of FY{year.year}",
                source_type=SOURCE_TYPE, source_id=str(year.pk), check_permission=False,
                allow_inactive_accounts=True,
            )
        closed = 0
        for period in periods:
            if period.status == PeriodStatus.OPEN:
                apply_transition(period, transitions=PERIOD_TRANSITIONS, to=PeriodStatus.CLOSED,
                                 code="period.illegal_transition")
                record(company=company, actor=actor, verb=PERIOD_CLOSED.name, subject=period,
                       data={"period": period.name, "from": PeriodStatus.OPEN, "to": PeriodStatus.CLOSED,
                             "reason": f"year-end close of FY{year.year}"})
                closed += 1
        apply_transition(year, transitions=FISCAL_YEAR_TRANSITIONS, to=PeriodStatus.CLOSED,
                         code="fiscal_year.illegal_transition")
        result = round_amount(-net, company.base_currency_id)  # credit balance of P&L = profit
        record(company=company, actor=actor, verb=FISCAL_YEAR_CLOSED.name, subject=year,
               data={"year": year.year, "result": result, "entry": entry.number if entry else "",
                     "periods_closed": closed})
    return ClosingResult(fiscal_year=year, entry=entry, result=result, periods_closed=closed)
