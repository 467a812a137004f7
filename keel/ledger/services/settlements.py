"""Settling foreign-currency items: realized exchange differences.

A receivable or payable in a foreign currency is booked at the rate of its invoice; its
payment comes in at the rate of the payment's day. Once the payment's foreign amount
cancels the invoice's, the item is settled, but its base values do not cancel: the rest is
the realized exchange gain or loss. `settle_items` takes such lines (same account, party
and currency; foreign amounts adding up to zero), posts the difference on the item (a line
in its currency with a zero foreign amount, which the posting service reads as a change of
base value only) against the exchange gain or loss account, and remembers which lines it
took, so none is settled twice. Revaluation then finds nothing left on them.

A partial payment is settled once the rest is paid (choose all the lines then); departments
that settle by amount (billing, payables) call `revaluation.post_realized_difference`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from keel.core.activity import record
from keel.core.db_money import MoneySum
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company
from keel.core.money import format_money, round_amount
from keel.ledger.choices import AccountRole, SettlementStatus
from keel.ledger.events import ITEMS_SETTLED, SETTLEMENT_UNDONE
from keel.ledger.models import Account, Line, SettledLine, Settlement
from keel.ledger.services._common import require
from keel.ledger.services.posting import LineInput, post_entry, reverse_entry
from keel.ledger.services.revaluation import general_journal_of, role_account_of

ZERO = Decimal(0)
SETTLEMENT_SOURCE = "ledger.settlement"
SETTLEMENT_PURPOSE = "settlement"  # the realized difference; undone only by undo_settlement
SETTLED_ROLES = (AccountRole.RECEIVABLE, AccountRole.PAYABLE)
MAX_LINES = 500


def _line_ids(values: Sequence) -> list[int]:
    ids = []
    for value in values or ():
        if isinstance(value, bool) or not str(value).strip().isdigit() or len(str(value).strip()) > 18:
            raise ValidationFailed(f"'{value}' is not a journal line id.", code="settlement.invalid", field="lines")
        ids.append(int(str(value).strip()))
    ids = sorted(set(ids))
    if len(ids) < 2:
        raise ValidationFailed("Choose at least two lines of the item, such as the invoice and its payment.",
                               code="settlement.too_few_lines", field="lines")
    if len(ids) > MAX_LINES:
        raise ValidationFailed(f"A settlement takes at most {MAX_LINES} lines.", code="settlement.invalid", field="lines")
    return ids


def settle_items(*, actor, company: Company, lines: Sequence, date: dt.date | None = None,
                 check_permission: bool = True) -> Settlement:
    """Settle posted foreign-currency lines of one receivable or payable item whose foreign
    amounts add up to zero, posting the realized difference on `date` (default: the latest
    line's date). Refusals write nothing."""
    require(actor, company, "ledger.post", check_permission=check_permission)
    ids = _line_ids(lines)
    if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        raise ValidationFailed(f"'{date}' is not a date.", code="settlement.invalid", field="date")
    base = company.base_currency_id
    with transaction.atomic():
        found = list(Line.objects.for_company(company).posted().filter(pk__in=ids)
                     .select_related("account", "party", "currency").order_by("date", "id"))
        missing = sorted(set(ids) - {line.pk for line in found})
        if missing:
            raise NotFound(f"There is no posted journal line #{missing[0]} in {company.code}.",
                           code="settlement.line_not_found", field="lines")
        first = found[0]
        if any((line.account_id, line.party_id, line.currency_id) != (first.account_id, first.party_id, first.currency_id)
               for line in found):
            raise ValidationFailed("The lines belong to different items: a settlement takes lines of one account, "
                                   "one party and one currency.", code="settlement.mixed_items", field="lines")
        if first.account.role not in SETTLED_ROLES:
            raise ValidationFailed(f"Account {first.account.code} is not a receivable or payable account.",
                                   code="settlement.not_an_item", field="lines")
        if first.currency_id == base:
            raise ValidationFailed(f"The lines are in {base}, the company's currency: they have no exchange "
                                   "difference to settle.", code="settlement.not_foreign", field="lines")
        differences = [line.pk for line in found if not line.amount_currency]
        if differences:
            raise ValidationFailed(f"Line #{differences[0]} is an exchange difference, not part of the item.",
                                   code="settlement.not_an_item", field="lines")
        taken = (SettledLine.objects.for_company(company).filter(line_id__in=ids, is_active=True)
                 .values_list("line_id", "settlement_id").first())
        if taken is not None:
            raise ValidationFailed(f"Line #{taken[0]} is settled already (settlement #{taken[1]}).",
                                   code="settlement.already_settled", field="lines")
        currency = first.currency
        open_amount = sum((line.amount_currency for line in found), ZERO)
        if open_amount:
            raise ValidationFailed(
                f"These lines leave {format_money(open_amount, currency)} {currency.code} open: choose lines whose "
                f"{currency.code} amounts add up to zero.", code="settlement.unbalanced", field="lines")
        booked = round_amount(sum((line.debit - line.credit for line in found), ZERO), base)
        day = date or found[-1].date
        settlement = Settlement.objects.create(
            company=company, account=first.account, party=first.party, currency=currency, date=day,
            amount_currency=round_amount(sum((line.amount_currency for line in found if line.amount_currency > 0), ZERO),
                                         currency.code),
            difference=-booked, created_by=actor if getattr(actor, "pk", None) else None,
        )
        try:
            with transaction.atomic():
                SettledLine.objects.bulk_create(
                    [SettledLine(company=company, settlement=settlement, line=line) for line in found])
        except IntegrityError:  # a concurrent settlement took one of them first
            raise ValidationFailed("One of these lines was settled meanwhile; reload and choose again.",
                                   code="settlement.already_settled", field="lines")
        if booked:
            settlement.entry = _post_difference(actor, company, settlement, -booked)
            settlement.save(update_fields=["entry"])
        record(company=company, actor=actor, verb=ITEMS_SETTLED.name, subject=settlement,
               subject_repr=f"Settlement #{settlement.pk}",
               data={"account": first.account.code, "party_id": first.party_id, "currency": currency.code,
                     "lines": [line.pk for line in found], "amount_currency": settlement.amount_currency,
                     "difference": settlement.difference,
                     "entry": settlement.entry.number if settlement.entry else None})
    return settlement


def _post_difference(actor, company: Company, settlement: Settlement, difference: Decimal):
    """The realized difference: the item's base value +/- difference against gain or loss."""
    code = settlement.currency_id
    if difference > 0:
        counter = LineInput(account=role_account_of(company, AccountRole.EXCHANGE_GAIN).pk, credit=difference,
                            label="Realized exchange gain")
    else:
        counter = LineInput(account=role_account_of(company, AccountRole.EXCHANGE_LOSS).pk, debit=-difference,
                            label="Realized exchange loss")
    source = {"source_type": SETTLEMENT_SOURCE, "source_id": str(settlement.pk)}
    item = LineInput(account=settlement.account_id, debit=max(difference, ZERO), credit=max(-difference, ZERO),
                     party=settlement.party_id, currency=code, amount_currency=ZERO,
                     label=f"Exchange difference on {settlement.amount_currency} {code} settled"[:200], **source)
    return post_entry(actor=actor, company=company, journal=general_journal_of(company), date=settlement.date,
                      lines=[item, counter], description=f"Realized exchange difference, settlement #{settlement.pk}",
                      purpose=SETTLEMENT_PURPOSE, check_permission=False, **source)


def undo_settlement(*, actor, settlement: Settlement, date: dt.date | None = None,
                    check_permission: bool = True) -> Settlement:
    """Undo a settlement: its difference entry is reversed (on `date`, default its own date)
    and its lines are open again."""
    require(actor, settlement.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = (Settlement.objects.select_for_update(of=("self",)).select_related("company", "entry")
                  .filter(pk=settlement.pk).first())
        if locked is None or locked.status != SettlementStatus.POSTED:
            raise ValidationFailed("Only a posted settlement can be undone.", code="settlement.not_posted",
                                   field="status")
        if locked.entry is not None:
            locked.reversal = reverse_entry(actor=actor, entry=locked.entry, date=date or locked.date,
                                            description=f"Undo of settlement #{locked.pk}",
                                            undo_of_source=SETTLEMENT_SOURCE, check_permission=False)
        SettledLine.objects.filter(settlement=locked).update(is_active=False)
        locked.status, locked.undone_at = SettlementStatus.UNDONE, timezone.now()
        locked.save(update_fields=["status", "undone_at", "reversal"])
        record(company=locked.company, actor=actor, verb=SETTLEMENT_UNDONE.name, subject=locked,
               subject_repr=f"Settlement #{locked.pk}",
               data={"reversal": locked.reversal.number if locked.reversal else None})
    return locked


# -- reads -----------------------------------------------------------------------------------


def settlement_accounts(company: Company) -> QuerySet[Account]:
    """The receivable and payable accounts whose foreign items can be settled."""
    return Account.objects.for_company(company).filter(role__in=SETTLED_ROLES).order_by("code")


def list_open_items(company: Company, *, account: Account | None = None, party_id: int | None = None,
                    currency: str | None = None) -> QuerySet[Line]:
    """Posted foreign-currency lines of receivable and payable accounts that no posted
    settlement has taken (exchange differences, with no foreign amount, are not items)."""
    lines = (Line.objects.for_company(company).posted()
             .filter(account__role__in=SETTLED_ROLES).exclude(currency_id=company.base_currency_id)
             .exclude(amount_currency=0)
             .filter(~Exists(SettledLine.objects.filter(company=company, line=OuterRef("pk"), is_active=True))))
    if account is not None:
        lines = lines.filter(account=account)
    if party_id is not None:
        lines = lines.filter(party_id=party_id)
    if currency:
        lines = lines.filter(currency_id=currency.upper())
    return lines.select_related("account", "party", "entry")


def open_item_totals(company: Company, lines: QuerySet[Line]) -> list[dict]:
    """Per (account, party, currency) of `lines`: the open foreign amount and booked base value."""
    rows = (lines.order_by().values("account__code", "party_id", "party__name", "currency_id")
            .annotate(amount_currency=MoneySum("amount_currency"), debit=MoneySum("debit"), credit=MoneySum("credit")))
    return [{"account": r["account__code"], "party_id": r["party_id"], "party": r["party__name"] or "",
             "currency": r["currency_id"], "amount_currency": r["amount_currency"] or ZERO,
             "booked": (r["debit"] or ZERO) - (r["credit"] or ZERO)}
            for r in sorted(rows, key=lambda r: (r["account__code"], r["party__name"] or "", r["currency_id"]))]


def list_settlements(company: Company) -> QuerySet[Settlement]:
    return Settlement.objects.for_company(company).select_related("account", "party", "entry", "reversal")


def get_settlement(company: Company, settlement_id: int) -> Settlement:
    found = list_settlements(company).filter(pk=settlement_id).first()
    if found is None:
        raise NotFound(f"There is no settlement #{settlement_id} in {company.code}.", code="settlement.not_found")
    return found
