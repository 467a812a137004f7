"""Foreign-currency differences: period-end revaluation (unrealized) and settlements (realized).

Open foreign-currency items are the lines of receivable and payable accounts in a currency
other than the company's, per (account, party, currency), and foreign-currency bank accounts
(never a base-currency one): nothing else is revalued. Their *booked* base
value is the sum of their lines' debit - credit, including the exchange-difference lines
this module posts on them: lines in the item's currency with a zero foreign amount (the
posting service's way of changing only a base value), tagged source_type EXCHANGE_SOURCE.

Revaluation at a period end values each open item at the period end's rate
(keel.core.services.currencies.get_rate), posts the differences to the exchange gain /
loss role accounts in one entry dated the period end, and reverses it on the first day
of the next period (reverse_entry), so the next period starts from the booked values
again. A period end is revalued once, unless its revaluation is undone first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from keel.core.activity import record
from keel.core.db_money import MoneySum
from keel.core.exceptions import KeelError, NotFound, ValidationFailed
from keel.core.models import Company, Party
from keel.core.money import currency_decimals, parse_amount, round_amount
from keel.core.services.currencies import get_rate
from keel.ledger.choices import AccountRole, JournalKind, RevaluationStatus
from keel.ledger.events import EXCHANGE_DIFFERENCE_POSTED, REVALUATION_POSTED, REVALUATION_UNDONE
from keel.ledger.models import Account, BankAccount, Entry, Journal, Line, Period, Revaluation
from keel.ledger.services._common import require
from keel.ledger.services.posting import LineInput, post_entry, reverse_entry

ZERO = Decimal(0)
EXCHANGE_SOURCE = "ledger.exchange_difference"
REVALUATION_SOURCE = "ledger.revaluation"
# The revaluation entry is reversed the next day as soon as it is posted, so it is never
# live (the Revaluation's own constraint keeps one per period end); its undo's counter entry
# is live, one per revaluation.
REVALUATION_PURPOSE = "revaluation"
REVALUATION_UNDO_PURPOSE = "revaluation_undo"
REVALUED_ROLES = (AccountRole.RECEIVABLE, AccountRole.PAYABLE, AccountRole.BANK)


@dataclass
class RevaluationRow:
    """One open foreign item at the period end, and its difference (positive: a gain on it)."""

    account_id: int
    account_code: str
    account_name: str
    party_id: int | None
    party_name: str
    currency: str
    amount_currency: Decimal
    booked: Decimal
    rate: Decimal
    revalued: Decimal

    @property
    def difference(self) -> Decimal:
        return self.revalued - self.booked

    def as_data(self) -> dict:
        return {"account": self.account_code, "party_id": self.party_id, "currency": self.currency,
                "amount_currency": str(self.amount_currency), "booked": str(self.booked), "rate": str(self.rate),
                "revalued": str(self.revalued), "difference": str(self.difference)}


@dataclass
class RevaluationPreview:
    period_end: dt.date
    currency: str
    rows: list[RevaluationRow] = field(default_factory=list)
    existing: Revaluation | None = None

    @property
    def postable(self) -> list[RevaluationRow]:
        return [row for row in self.rows if row.difference]

    @property
    def gain(self) -> Decimal:
        return sum((row.difference for row in self.postable if row.difference > 0), ZERO)

    @property
    def loss(self) -> Decimal:
        return -sum((row.difference for row in self.postable if row.difference < 0), ZERO)


def _period_ending(company: Company, period_end: Any) -> Period:
    if not isinstance(period_end, dt.date) or isinstance(period_end, dt.datetime):
        raise ValidationFailed(f"'{period_end}' is not a date.", code="revaluation.invalid_date", field="period_end")
    period = Period.objects.for_company(company).filter(end=period_end).first()
    if period is None:
        raise ValidationFailed(
            f"{period_end.isoformat()} is not the last day of one of {company.code}'s periods.",
            code="revaluation.not_a_period_end", field="period_end",
        )
    return period


def open_foreign_items(company: Company, on_date: dt.date) -> list[dict]:
    """Per (account, party, currency) of receivable and payable accounts, and of foreign-currency
    bank accounts (a bank-role ledger account without a bank account counts as one in the
    currencies of its lines): the foreign amount and booked base value of posted lines up to
    `on_date` (non-zero foreign amounts). Nothing else is revalued."""
    base = company.base_currency_id
    lines = (Line.objects.for_company(company)
             .filter(date__lte=on_date, account__role__in=REVALUED_ROLES)
             .posted())
    foreign = (lines.exclude(currency_id=base)
               .values("account_id", "party_id", "currency_id")
               .annotate(amount=MoneySum("amount_currency"), debit=MoneySum("debit"), credit=MoneySum("credit"))
               .order_by())
    # Exchange-difference lines are in the item's currency with a zero foreign amount, so
    # the booked value here already includes earlier revaluations and settlements.
    # A bank account holds its own currency only: a base-currency bank account is never
    # revalued, a foreign one only in its currency (lines of another currency on its ledger
    # account, which posting now refuses, are not money in that bank).
    bank_currencies = dict(BankAccount.objects.for_company(company).values_list("account_id", "currency_id"))
    items: dict[tuple, dict] = {}
    for row in foreign:
        if bank_currencies.get(row["account_id"], row["currency_id"]) != row["currency_id"]:
            continue
        key = (row["account_id"], row["party_id"], row["currency_id"])
        items[key] = {"amount_currency": row["amount"] or ZERO,
                      "booked": (row["debit"] or ZERO) - (row["credit"] or ZERO)}
    return [{"account_id": k[0], "party_id": k[1], "currency": k[2], **v}
            for k, v in sorted(items.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0, kv[0][2]))
            if v["amount_currency"]]


def preview_revaluation(*, company: Company, period_end: dt.date) -> RevaluationPreview:
    """What revaluing at `period_end` would post. A missing rate is refused, naming the currency."""
    _period_ending(company, period_end)
    base = company.base_currency_id
    items = open_foreign_items(company, period_end)
    accounts = {a.pk: a for a in Account.objects.for_company(company).filter(pk__in={i["account_id"] for i in items})}
    parties = dict(Party.objects.filter(company=company, pk__in={i["party_id"] for i in items if i["party_id"]})
                   .values_list("pk", "name"))
    rates: dict[str, Decimal] = {}
    for currency in sorted({i["currency"] for i in items}):
        try:
            rates[currency] = get_rate(company=company, currency=currency, on_date=period_end)
        except KeelError:
            raise ValidationFailed(
                f"No {currency} exchange rate on or before {period_end.isoformat()}: enter one before revaluing; "
                "nothing was posted.", code="revaluation.rate_missing", field="period_end",
            )
    preview = RevaluationPreview(period_end=period_end, currency=base)
    for item in items:
        account = accounts[item["account_id"]]
        rate = rates[item["currency"]]
        row = RevaluationRow(
            account_id=account.pk, account_code=account.code, account_name=account.name, party_id=item["party_id"],
            party_name=parties.get(item["party_id"], ""), currency=item["currency"],
            amount_currency=item["amount_currency"], booked=item["booked"], rate=rate,
            revalued=round_amount(item["amount_currency"] * rate, base),
        )
        preview.rows.append(row)
    preview.existing = (Revaluation.objects.for_company(company)
                        .filter(period_end=period_end, status=RevaluationStatus.POSTED).first())
    return preview


def general_journal_of(company: Company) -> Journal:
    journals = Journal.objects.for_company(company).filter(is_active=True)
    journal = journals.filter(code="GEN").first() or journals.filter(kind=JournalKind.GENERAL).order_by("code").first()
    if journal is None:
        raise ValidationFailed(f"{company.code} has no general journal.", code="revaluation.no_journal", field="journal")
    return journal


def role_account_of(company: Company, role: str) -> Account:
    account = Account.objects.for_company(company).filter(role=role, is_active=True).first()
    if account is None:
        raise ValidationFailed(f"The chart has no active '{role}' account.", code="exchange.no_account", field="account")
    return account


def post_revaluation(*, actor, company: Company, period_end: dt.date, check_permission: bool = True) -> Revaluation:
    """Post the unrealized differences at `period_end` and their reversal the next day.

    Refused (nothing posted) when a rate is missing, there is nothing to revalue, the
    period end was revalued already, or either period is not open.
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        # One revaluation at a time per company: lock the company's row.
        Company.objects.select_for_update().filter(pk=company.pk).first()
        preview = preview_revaluation(company=company, period_end=period_end)
        if preview.existing is not None:
            raise ValidationFailed(
                f"{period_end.isoformat()} was revalued already (entry {preview.existing.entry.number}); "
                "undo that revaluation first.", code="revaluation.already_done", field="period_end",
            )
        rows = preview.postable
        if not rows:
            raise ValidationFailed(f"Nothing to revalue at {period_end.isoformat()}: no open foreign-currency "
                                   "differences.", code="revaluation.nothing_to_post", field="period_end")
        lines = []
        for row in rows:
            difference = row.difference
            lines.append(LineInput(
                account=row.account_id, debit=max(difference, ZERO), credit=max(-difference, ZERO),
                label=f"Revaluation of {row.amount_currency} {row.currency} at {row.rate}"[:200], party=row.party_id,
                currency=row.currency, amount_currency=ZERO, source_type=EXCHANGE_SOURCE, source_id=row.currency,
            ))
        if preview.gain:
            lines.append(LineInput(account=role_account_of(company, AccountRole.EXCHANGE_GAIN).pk, credit=preview.gain,
                                   label="Unrealized exchange gains"))
        if preview.loss:
            lines.append(LineInput(account=role_account_of(company, AccountRole.EXCHANGE_LOSS).pk, debit=preview.loss,
                                   label="Unrealized exchange losses"))
        journal = general_journal_of(company)
        entry = post_entry(
            actor=actor, company=company, journal=journal, date=period_end, lines=lines,
            reference=f"REVAL {period_end.isoformat()}", description=f"Unrealized exchange differences at {period_end}",
            source_type=REVALUATION_SOURCE, source_id=period_end.isoformat(), purpose=REVALUATION_PURPOSE,
            check_permission=False,
        )
        reversal = reverse_entry(actor=actor, entry=entry, date=period_end + dt.timedelta(days=1),
                                 description=f"Reversal of the revaluation at {period_end}",
                                 undo_of_source=REVALUATION_SOURCE, check_permission=False)
        entry.refresh_from_db()
        try:
            with transaction.atomic():
                revaluation = Revaluation.objects.create(
                    company=company, period_end=period_end, entry=entry, reversal=reversal, gain=preview.gain,
                    loss=preview.loss, details=[row.as_data() for row in preview.rows],
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            raise ValidationFailed(f"{period_end.isoformat()} was revalued already.", code="revaluation.already_done",
                                   field="period_end")
        record(company=company, actor=actor, verb=REVALUATION_POSTED.name, subject=revaluation,
               data={"period_end": period_end, "entry": entry.number, "reversal": reversal.number,
                     "gain": preview.gain, "loss": preview.loss, "items": len(rows)})
    return revaluation


def undo_revaluation(*, actor, revaluation: Revaluation, check_permission: bool = True) -> Revaluation:
    """Cancel a revaluation: its entry is countered at the period end and its reversal is
    reversed at the next period's start, so both periods are as before; then the period
    end may be revalued again."""
    require(actor, revaluation.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = (Revaluation.objects.select_for_update().select_related("company", "entry", "reversal")
                  .filter(pk=revaluation.pk).first())
        if locked is None or locked.status != RevaluationStatus.POSTED:
            raise ValidationFailed("Only a posted revaluation can be undone.", code="revaluation.not_posted",
                                   field="status")
        company = locked.company
        mirror = [
            LineInput(account=line.account_id, debit=line.credit, credit=line.debit, label=line.label[:200],
                      party=line.party_id, currency=line.currency_id, amount_currency=-line.amount_currency,
                      source_type=line.source_type,
                      source_id=line.source_id)
            for line in Line.objects.filter(entry=locked.entry).order_by("position", "id")
        ]
        post_entry(actor=actor, company=company, journal=locked.entry.journal_id, date=locked.period_end, lines=mirror,
                   reference=locked.entry.reference, description=f"Undo of the revaluation {locked.entry.number}",
                   source_type=REVALUATION_SOURCE, source_id=str(locked.pk), purpose=REVALUATION_UNDO_PURPOSE,
                   check_permission=False)
        reverse_entry(actor=actor, entry=locked.reversal, date=locked.reversal.date,
                      description=f"Undo of {locked.reversal.number}", undo_of_source=REVALUATION_SOURCE,
                      check_permission=False)
        locked.status = RevaluationStatus.UNDONE
        locked.undone_at = timezone.now()
        locked.save(update_fields=["status", "undone_at"])
        record(company=company, actor=actor, verb=REVALUATION_UNDONE.name, subject=locked,
               data={"period_end": locked.period_end, "entry": locked.entry.number})
    return locked


# -- realized differences ------------------------------------------------------------------


def _decimal(value: Any, field_name: str, *, decimals: int, label: str) -> Decimal:
    """An amount or rate of a settlement, by the core parser (within MAX_AMOUNT and `decimals`)."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed(f"Give the {label}.", code="money.not_a_number", field=field_name)
    return parse_amount(value, decimals=decimals, field=field_name, label=label)


@dataclass
class RealizedDifference:
    booked: Decimal  # the booked base value of the settled part
    settled: Decimal  # its base value at the settlement
    entry: Entry | None

    @property
    def difference(self) -> Decimal:
        return self.settled - self.booked


def post_realized_difference(
    *, actor, company: Company, account: Any, currency: str, amount_currency: Any, booked_amount: Any,
    settled_amount_currency: Any, date: dt.date, rate: Any = None, settled_amount: Any = None, party: Any = None,
    journal: Any = None, check_permission: bool = True,
) -> RealizedDifference:
    """Post the realized exchange gain or loss of settling (part of) a foreign open item.

    The item: `amount_currency` (signed, positive on the debit side, e.g. a receivable)
    booked at `booked_amount` (signed, in the company's currency). The settlement takes
    `settled_amount_currency` (same sign, at most the item) off it at `rate` (or worth
    `settled_amount` in the company's currency). The settlement itself is posted by the
    caller at its own rate; this entry brings the item's booked value in line:
    account +/- difference, against the exchange gain or loss account. No difference, no entry.
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    base = company.base_currency_id
    code = str(currency or "").strip().upper()
    if not code or code == base:
        raise ValidationFailed("A realized difference is about an item in a foreign currency.",
                               code="exchange.not_foreign", field="currency")
    foreign_decimals, base_decimals = currency_decimals(code), currency_decimals(base)
    item = _decimal(amount_currency, "amount_currency", decimals=foreign_decimals, label="item's amount")
    booked = _decimal(booked_amount, "booked_amount", decimals=base_decimals, label="booked amount")
    settled_foreign = _decimal(settled_amount_currency, "settled_amount_currency", decimals=foreign_decimals,
                               label="settled amount")
    if not item:
        raise ValidationFailed("The item's amount is not zero.", code="exchange.invalid", field="amount_currency")
    if not settled_foreign or (settled_foreign > 0) != (item > 0) or abs(settled_foreign) > abs(item):
        raise ValidationFailed("The settled amount has the item's sign and is at most the item's amount.",
                               code="exchange.invalid", field="settled_amount_currency")
    if (booked > 0) != (item > 0) and booked:
        raise ValidationFailed("The booked amount has the item's sign.", code="exchange.invalid", field="booked_amount")
    if settled_amount not in (None, ""):
        settled = _decimal(settled_amount, "settled_amount", decimals=base_decimals, label="settled base amount")
        if (settled > 0) != (settled_foreign > 0):
            raise ValidationFailed("The settled base amount has the item's sign.", code="exchange.invalid",
                                   field="settled_amount")
    elif rate not in (None, ""):
        settle_rate = _decimal(rate, "rate", decimals=10, label="rate")
        if settle_rate <= 0:
            raise ValidationFailed("A rate is a positive number.", code="rate.invalid", field="rate")
        settled = round_amount(settled_foreign * settle_rate, base)
    else:
        raise ValidationFailed("Give the settlement's rate or its amount in the company's currency.",
                               code="exchange.invalid", field="rate")
    booked_part = booked if settled_foreign == item else round_amount(booked * settled_foreign / item, base)
    result = RealizedDifference(booked=booked_part, settled=settled, entry=None)
    difference = result.difference
    accounts = Account.objects.for_company(company)
    if isinstance(account, Account):
        found = accounts.filter(pk=account.pk).first()
    elif isinstance(account, int) and not isinstance(account, bool):
        found = accounts.filter(pk=account).first()
    else:
        found = accounts.filter(code=str(account or "").strip()).first()
    if found is None:
        raise NotFound(f"There is no account '{account}' in {company.code}.", code="account.not_found", field="account")
    if not difference:
        return result
    if difference > 0:
        counter = LineInput(account=role_account_of(company, AccountRole.EXCHANGE_GAIN).pk, credit=difference,
                            label="Realized exchange gain")
    else:
        counter = LineInput(account=role_account_of(company, AccountRole.EXCHANGE_LOSS).pk, debit=-difference,
                            label="Realized exchange loss")
    item_line = LineInput(
        account=found.pk, debit=max(difference, ZERO), credit=max(-difference, ZERO), party=party, currency=code,
        amount_currency=ZERO,
        label=f"Exchange difference on {settled_foreign} {code}"[:200], source_type=EXCHANGE_SOURCE, source_id=code,
    )
    with transaction.atomic():
        entry = post_entry(
            actor=actor, company=company, journal=journal if journal is not None else general_journal_of(company),
            date=date, lines=[item_line, counter], description=f"Realized exchange difference on {settled_foreign} {code}",
            source_type=EXCHANGE_SOURCE, source_id=code, check_permission=False,
        )
        record(company=company, actor=actor, verb=EXCHANGE_DIFFERENCE_POSTED.name, subject=entry,
               subject_repr=entry.number,
               data={"currency": code, "settled_amount_currency": settled_foreign, "booked": booked_part,
                     "settled": settled, "difference": difference, "entry": entry.number})
    result.entry = entry
    return result


def list_revaluations(company: Company):
    """The company's revaluations, newest period first."""
    return Revaluation.objects.for_company(company).select_related("entry", "reversal", "created_by")
