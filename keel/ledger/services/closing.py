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
- It is refused before the year's last day (`fiscal_year.not_ended`): a close posts the
  result of a year that is over. Only owners and administrators close a year
  (`books.close_year`, outside `ledger.*` so the accountant's role does not match it).
- `preview_fiscal_year_close` computes the closing entry without writing, with the reasons
  the close would be refused: the page shows it and asks for confirmation.
- The closing entry belongs to the year (source `ledger.fiscal_year`, purpose `close`): a
  plain reversal is refused; `reopen_fiscal_year` (owners and administrators, with a
  reason) reverses it on the same day, reopens the year's last period (the one it is dated
  in) and the year. The other periods stay as they are: a closed one is reopened on its own,
  with its own reason, now that the year is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

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
from keel.ledger.events import (
    FISCAL_YEAR_CLOSED,
    FISCAL_YEAR_REOPENED,
    PERIOD_CLOSED,
    PERIOD_REOPENED,
)
from keel.ledger.models import Account, Entry, FiscalYear, Journal, Period
from keel.ledger.selectors import movements
from keel.ledger.services._common import require
from keel.ledger.services.periods import REOPEN_PERMISSION
from keel.ledger.services.posting import LineInput, live_entry_for, post_entry, reverse_entry
from keel.ledger.transitions import FISCAL_YEAR_TRANSITIONS, PERIOD_TRANSITIONS

ZERO = Decimal(0)
SOURCE_TYPE = CLOSING_SOURCE_TYPE
CLOSING_PURPOSE = "close"
CLOSE_YEAR_PERMISSION = "books.close_year"  # owners and administrators only (see LedgerConfig.ready)


@dataclass
class ClosingResult:
    fiscal_year: FiscalYear
    entry: Entry | None  # None when the year had no income or expense
    result: Decimal  # profit (positive) or loss (negative) moved to retained earnings
    periods_closed: int


@dataclass
class ClosingLine:
    """One line of the closing entry as it would be posted."""

    account: Account
    debit: Decimal
    credit: Decimal
    label: str


@dataclass
class ClosingPreview:
    """The closing entry a close would post now, and why it would be refused (if it would)."""

    fiscal_year: FiscalYear
    lines: list[ClosingLine]
    result: Decimal  # profit (positive) or loss (negative)
    journal: Journal | None
    retained_earnings: Account | None
    refusals: list[ValidationFailed]

    @property
    def can_close(self) -> bool:
        return not self.refusals

    @property
    def total(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)


@dataclass
class ReopeningResult:
    fiscal_year: FiscalYear
    reversal: Entry | None  # None when the close had posted no entry
    reason: str


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


def _own_year(company: Company, fiscal_year: FiscalYear | int) -> FiscalYear:
    if isinstance(fiscal_year, int):
        fiscal_year = get_fiscal_year(company=company, year=fiscal_year)
    if fiscal_year.company_id != company.pk:
        raise ValidationFailed("That fiscal year belongs to another company.", code="fiscal_year.other_company",
                               field="fiscal_year")
    return fiscal_year


def _closing_lines(company: Company, year: FiscalYear) -> tuple[list[ClosingLine], Decimal, Account | None]:
    """The lines that bring the year's income and expense to zero against retained
    earnings, and the net (debit minus credit) of those accounts over the year."""
    retained = Account.objects.for_company(company).filter(role=AccountRole.RETAINED_EARNINGS).first()
    totals = movements(company, year.start, year.end)
    profit_and_loss = Account.objects.for_company(company).filter(
        pk__in=list(totals), account_type__in=[AccountType.INCOME, AccountType.EXPENSE]).order_by("code")
    lines: list[ClosingLine] = []
    net = ZERO
    label = f"Year-end close FY{year.year}"
    for account in profit_and_loss:
        debit, credit = totals[account.pk]
        balance = debit - credit
        if not balance:
            continue
        net += balance
        lines.append(ClosingLine(account, ZERO, balance, label) if balance > 0
                     else ClosingLine(account, -balance, ZERO, label))
    if lines and net and retained is not None:  # income equal to expense: nothing reaches retained earnings
        result_label = f"Result of FY{year.year}"
        lines.append(ClosingLine(retained, net, ZERO, result_label) if net > 0
                     else ClosingLine(retained, ZERO, -net, result_label))
    return lines, net, retained


def _refusals(company: Company, year: FiscalYear, periods: list[Period], *, retained: Account | None,
              journal: Journal | None, today) -> list[ValidationFailed]:
    """Every reason the year cannot be closed now, in the order a user fixes them."""
    found: list[ValidationFailed] = []
    if year.status != PeriodStatus.OPEN:
        found.append(ValidationFailed(f"Fiscal year {year.year} is already {year.status}.",
                                      code="fiscal_year.already_closed", field="fiscal_year"))
        return found
    if today < year.end:
        found.append(ValidationFailed(
            f"Fiscal year {year.year} ends on {year.end.isoformat()}: it can be closed from its last day on.",
            code="fiscal_year.not_ended", field="fiscal_year"))
    drafts = Entry.objects.for_company(company).filter(
        status=EntryStatus.DRAFT, date__gte=year.start, date__lte=year.end).count()
    if drafts:
        found.append(ValidationFailed(
            f"Fiscal year {year.year} has {drafts} draft entr{'y' if drafts == 1 else 'ies'}: "
            "post or delete them before closing the year.",
            code="fiscal_year.has_drafts", field="fiscal_year", extra={"drafts": drafts},
        ))
    if not periods or periods[-1].status != PeriodStatus.OPEN:
        name = periods[-1].name if periods else str(year.year)
        found.append(ValidationFailed(
            f"The last period of the year ({name}) is not open; the closing entry is dated in it. "
            "Reopen it (with a reason) first.",
            code="fiscal_year.last_period_closed", field="fiscal_year",
        ))
    if retained is None:
        found.append(ValidationFailed("The chart has no retained-earnings account (role 'retained_earnings').",
                                      code="fiscal_year.no_retained_earnings", field="fiscal_year"))
    if journal is None:
        found.append(ValidationFailed("The company has no opening or general journal for the closing entry.",
                                      code="fiscal_year.no_journal", field="fiscal_year"))
    return found


def preview_fiscal_year_close(*, company: Company, fiscal_year: FiscalYear | int) -> ClosingPreview:
    """The closing entry `close_fiscal_year` would post now, writing nothing, with the
    reasons it would be refused (empty when it can close)."""
    year = _own_year(company, fiscal_year)
    periods = list(Period.objects.for_company(company).filter(fiscal_year=year).order_by("start"))
    lines, net, retained = _closing_lines(company, year)
    journal = closing_journal(company)
    refusals = _refusals(company, year, periods, retained=retained, journal=journal, today=timezone.localdate())
    return ClosingPreview(fiscal_year=year, lines=lines, result=round_amount(-net, company.base_currency_id),
                          journal=journal, retained_earnings=retained, refusals=refusals)


def close_fiscal_year(*, actor, company: Company, fiscal_year: FiscalYear | int,
                      check_permission: bool = True) -> ClosingResult:
    """Post the closing entry of the year and close its periods and the year itself.

    Owners and administrators only (`books.close_year`), from the year's last day on.
    """
    require(actor, company, CLOSE_YEAR_PERMISSION, check_permission=check_permission)
    fiscal_year = _own_year(company, fiscal_year)
    with transaction.atomic():
        year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
        # Lock the periods before adding up the year: a posting holds its periods FOR SHARE
        # until it commits, so this waits for one in flight (and the sums below then see it),
        # and a later one waits for this close and finds its period closed. The closing entry
        # itself posts from this transaction, which the lock does not block.
        periods = list(Period.objects.for_company(company).filter(fiscal_year=year)
                       .select_for_update().order_by("start"))
        journal = closing_journal(company)
        retained = Account.objects.for_company(company).filter(role=AccountRole.RETAINED_EARNINGS).first()
        refusals = _refusals(company, year, periods, retained=retained, journal=journal, today=timezone.localdate())
        if refusals:
            raise refusals[0]
        closing_lines, net, _retained = _closing_lines(company, year)
        entry = None
        if closing_lines:
            # Deactivated P&L accounts still carry the year's figures: close them too.
            entry = post_entry(
                actor=actor, company=company, journal=journal, date=year.end,
                lines=[LineInput(account=line.account.pk, debit=line.debit, credit=line.credit, label=line.label)
                       for line in closing_lines],
                reference=f"FY{year.year}-CLOSE", description=f"Year-end closing of FY{year.year}",
                source_type=SOURCE_TYPE, source_id=str(year.pk), purpose=CLOSING_PURPOSE, check_permission=False,
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


def closing_entry_of(fiscal_year: FiscalYear) -> Entry | None:
    """The live closing entry of a year (None when open, or closed without income or expense)."""
    return live_entry_for(company=fiscal_year.company, source_type=SOURCE_TYPE, source_id=str(fiscal_year.pk),
                          purpose=CLOSING_PURPOSE)


def reopen_fiscal_year(*, actor, company: Company, fiscal_year: FiscalYear | int, reason: str,
                       check_permission: bool = True) -> ReopeningResult:
    """Undo a year-end close: reverse its closing entry (on the year's last day), reopen the
    last period (the one that entry is dated in) and the year. Owners and administrators
    (`books.reopen`), with a reason kept in the activity. The other periods stay as they are.

    Refused for a year that is not closed (`fiscal_year.not_closed`) and when its last
    period is locked (`fiscal_year.last_period_locked`: the reversal could not be posted).
    """
    require(actor, company, REOPEN_PERMISSION, check_permission=check_permission)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the fiscal year is reopened.", code="fiscal_year.reason_required",
                               field="reason")
    fiscal_year = _own_year(company, fiscal_year)
    with transaction.atomic():
        year = FiscalYear.objects.select_for_update().get(pk=fiscal_year.pk)
        if year.status != PeriodStatus.CLOSED:
            raise ValidationFailed(f"Fiscal year {year.year} is {year.status}: only a closed year is reopened.",
                                   code="fiscal_year.not_closed", field="fiscal_year")
        last = (Period.objects.for_company(company).filter(fiscal_year=year).select_for_update()
                .order_by("-start").first())
        if last is None or last.status == PeriodStatus.LOCKED:
            raise ValidationFailed(
                f"The last period of FY{year.year} is locked: the closing entry's reversal cannot be posted in it.",
                code="fiscal_year.last_period_locked", field="fiscal_year")
        reason = reason[:500]
        if last.status == PeriodStatus.CLOSED:
            apply_transition(last, transitions=PERIOD_TRANSITIONS, to=PeriodStatus.OPEN,
                             code="period.illegal_transition")
            record(company=company, actor=actor, verb=PERIOD_REOPENED.name, subject=last,
                   data={"period": last.name, "from": PeriodStatus.CLOSED, "to": PeriodStatus.OPEN,
                         "reason": f"reopening of FY{year.year}: {reason}"})
        closing = closing_entry_of(year)
        reversal = None
        if closing is not None:
            reversal = reverse_entry(actor=actor, entry=closing, date=closing.date,
                                     description=f"Reopening of FY{year.year}: {reason}"[:500],
                                     undo_of_source=SOURCE_TYPE, check_permission=False)
        apply_transition(year, transitions=FISCAL_YEAR_TRANSITIONS, to=PeriodStatus.OPEN,
                         code="fiscal_year.illegal_transition")
        record(company=company, actor=actor, verb=FISCAL_YEAR_REOPENED.name, subject=year,
               data={"year": year.year, "reason": reason, "entry": closing.number if closing else "",
                     "reversal": reversal.number if reversal else ""})
    return ReopeningResult(fiscal_year=year, reversal=reversal, reason=reason)
