"""Settling open items, in any currency, wholly or in part.

The lines of a receivable or payable account form open items per (account, party,
currency): an invoice's line, a payment's line, a credit note's. `settle_open_items` is the
one service that matches them: it takes **allocations** (a line, and how much of it; by
default all that is still open) of one item whose amounts add up to zero in the item's
currency, and records each as a `SettledLine` with its amount and its booked value. A line's
open amount is its amount less its active allocations, so a partly paid invoice keeps the
rest open, and a payment may settle several invoices (or one invoice several payments).

In the company's currency the booked values of the allocations cancel too, and nothing is
posted. In a foreign currency they were booked at different rates: the rest is the realized
exchange gain or loss, posted on the item (a line in its currency with a zero foreign amount,
which the posting service reads as a change of base value only) against the exchange gain or
loss account. A part of a line is valued pro rata to its booked value; the allocation that
takes the rest of a line takes the rest of its booked value, so a fully settled line is
exactly zero in both currencies and revaluation finds nothing left on it.

Billing and payables call `settle_open_items` for payments; the pages and the API call it
(and `settle_items`, its whole-lines form). `undo_settlement` reverses the difference entry
and opens the allocated amounts again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from keel.core.activity import record
from keel.core.db_money import MoneySum
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company
from keel.core.money import format_money, parse_amount, round_amount
from keel.core.records import parse_id
from keel.ledger.choices import PARTY_ROLES, AccountRole, SettlementStatus
from keel.ledger.events import ITEMS_SETTLED, SETTLEMENT_UNDONE
from keel.ledger.models import Account, Line, SettledLine, Settlement
from keel.ledger.services._common import require
from keel.ledger.services.posting import LineInput, post_entry, reverse_entry
from keel.ledger.services.revaluation import general_journal_of, role_account_of

ZERO = Decimal(0)
SETTLEMENT_SOURCE = "ledger.settlement"
SETTLEMENT_PURPOSE = "settlement"  # the realized difference; undone only by undo_settlement
SETTLED_ROLES = PARTY_ROLES
MAX_LINES = 500


@dataclass(frozen=True)
class Allocation:
    """A part of a posted line to settle: `amount` in the line's currency, as a positive
    number (its sign is the line's); None takes all that is still open of the line."""

    line: int
    amount: Decimal | str | None = None


@dataclass(frozen=True)
class _Take:
    line: Line
    amount_currency: Decimal  # signed like the line
    amount: Decimal  # its booked value, signed
    closes_line: bool


def _line_id(value) -> int:
    line_id = parse_id(value)
    if line_id is None:
        raise ValidationFailed(f"'{value}' is not a journal line id.", code="settlement.invalid", field="lines")
    return line_id


def _allocations(values: Sequence) -> list[tuple[int, object]]:
    """(line id, amount or None) per allocation, one per line, at least two."""
    found: dict[int, object] = {}
    for value in values or ():
        if isinstance(value, Allocation):
            line, amount = value.line, value.amount
        elif isinstance(value, dict):
            unknown = set(value) - {"line", "amount"}
            if unknown or "line" not in value:
                raise ValidationFailed("An allocation is {line, amount}.", code="settlement.invalid",
                                       field="allocations")
            line, amount = value["line"], value.get("amount")
        else:
            line, amount = value, None
        line_id = _line_id(line.pk if isinstance(line, Line) else line)
        if line_id in found:
            raise ValidationFailed(f"Line #{line_id} is chosen twice.", code="settlement.invalid", field="lines")
        found[line_id] = None if amount in (None, "") else amount
    if len(found) < 2:
        raise ValidationFailed("Choose at least two lines of the item, such as the invoice and its payment.",
                               code="settlement.too_few_lines", field="lines")
    if len(found) > MAX_LINES:
        raise ValidationFailed(f"A settlement takes at most {MAX_LINES} lines.", code="settlement.invalid",
                               field="lines")
    return sorted(found.items())


def settle_open_items(*, actor, company: Company, allocations: Sequence, date: dt.date | None = None,
                      check_permission: bool = True) -> Settlement:
    """Settle parts of posted lines of one receivable or payable item (account, party,
    currency), in any currency: `allocations` are `Allocation`s, {line, amount} dicts or
    bare line ids (all that is open of the line); the allocated amounts must add up to zero
    in the item's currency. A foreign item's realized difference is posted on `date`
    (default: the latest line's date). Refusals write nothing."""
    require(actor, company, "ledger.post", check_permission=check_permission)
    wanted = _allocations(allocations)
    if date is not None and (not isinstance(date, dt.date) or isinstance(date, dt.datetime)):
        raise ValidationFailed(f"'{date}' is not a date.", code="settlement.invalid", field="date")
    ids = [line_id for line_id, _amount in wanted]
    base = company.base_currency_id
    with transaction.atomic():
        # Lock the lines (in id order: no deadlock between two clerks), so the amounts still
        # open that are read next cannot change before this settlement commits.
        locked = set(Line.objects.for_company(company).posted().filter(pk__in=ids).order_by("pk")
                     .select_for_update(no_key=True).values_list("pk", flat=True))
        missing = sorted(set(ids) - locked)
        if missing:
            raise NotFound(f"There is no posted journal line #{missing[0]} in {company.code}.",
                           code="settlement.line_not_found", field="lines")
        found = {line.pk: line for line in Line.objects.filter(pk__in=ids)
                 .select_related("account", "party", "currency")}
        first = found[ids[0]]
        if any((line.account_id, line.party_id, line.currency_id) != (first.account_id, first.party_id,
                                                                      first.currency_id) for line in found.values()):
            raise ValidationFailed("The lines belong to different items: a settlement takes lines of one account, "
                                   "one party and one currency.", code="settlement.mixed_items", field="lines")
        if first.account.role not in SETTLED_ROLES:
            raise ValidationFailed(f"Account {first.account.code} is not a receivable or payable account.",
                                   code="settlement.not_an_item", field="lines")
        differences = [line.pk for line in found.values() if not line.amount_currency]
        if differences:
            raise ValidationFailed(f"Line #{differences[0]} is an exchange difference, not part of the item.",
                                   code="settlement.not_an_item", field="lines")
        currency = first.currency
        takes = _takes(company, wanted, found, currency.code, base)
        rest = sum((take.amount_currency for take in takes), ZERO)
        if rest:
            raise ValidationFailed(
                f"These lines leave {format_money(rest, currency)} {currency.code} open: choose lines or amounts "
                f"whose {currency.code} amounts add up to zero.", code="settlement.unbalanced", field="lines")
        booked = sum((take.amount for take in takes), ZERO)
        day = date or max(line.date for line in found.values())
        settlement = Settlement.objects.create(
            company=company, account=first.account, party=first.party, currency=currency, date=day,
            amount_currency=sum((take.amount_currency for take in takes if take.amount_currency > 0), ZERO),
            difference=-booked, created_by=actor if getattr(actor, "pk", None) else None,
        )
        try:
            with transaction.atomic():
                SettledLine.objects.bulk_create([
                    SettledLine(company=company, settlement=settlement, line=take.line,
                                amount_currency=take.amount_currency, amount=take.amount, closes_line=take.closes_line)
                    for take in takes])
        except IntegrityError:  # a settlement that did not wait for the locks (it cannot happen on SQLite)
            raise ValidationFailed("One of these lines was settled meanwhile; reload and choose again.",
                                   code="settlement.already_settled", field="lines")
        if booked:
            settlement.entry = _post_difference(actor, company, settlement, -booked)
            settlement.save(update_fields=["entry"])
        record(company=company, actor=actor, verb=ITEMS_SETTLED.name, subject=settlement,
               subject_repr=f"Settlement #{settlement.pk}",
               data={"account": first.account.code, "party_id": first.party_id, "currency": currency.code,
                     "lines": [take.line.pk for take in takes],
                     "allocations": [{"line": take.line.pk, "amount_currency": take.amount_currency,
                                      "amount": take.amount, "closes_line": take.closes_line} for take in takes],
                     "amount_currency": settlement.amount_currency, "difference": settlement.difference,
                     "entry": settlement.entry.number if settlement.entry else None})
    return settlement


def _takes(company: Company, wanted: list[tuple[int, object]], found: dict[int, Line], currency: str,
           base: str) -> list[_Take]:
    """What each allocation takes of its line's open amount and booked value."""
    settled = {row["line_id"]: row for row in SettledLine.objects.for_company(company)
               .filter(line_id__in=list(found), is_active=True).order_by().values("line_id")
               .annotate(amount_currency=MoneySum("amount_currency"), amount=MoneySum("amount"))}
    takes = []
    for line_id, requested in wanted:
        line = found[line_id]
        before = settled.get(line_id, {})
        open_amount = line.amount_currency - (before.get("amount_currency") or ZERO)
        if not open_amount:
            taken_by = (SettledLine.objects.for_company(company).filter(line_id=line_id, is_active=True)
                        .order_by("-settlement_id").values_list("settlement_id", flat=True).first())
            raise ValidationFailed(f"Line #{line_id} is settled already (settlement #{taken_by}).",
                                   code="settlement.already_settled", field="lines")
        if requested is None:
            take = open_amount
        else:
            value = parse_amount(requested, currency=currency, field="amount",
                                 label=f"amount settled of line #{line_id}")
            if value <= 0:
                raise ValidationFailed(f"The amount settled of line #{line_id} is a positive number.",
                                       code="settlement.invalid_amount", field="amount")
            if value > abs(open_amount):
                raise ValidationFailed(
                    f"Line #{line_id} has {format_money(abs(open_amount), line.currency)} {currency} open: "
                    f"{format_money(value, line.currency)} cannot be settled of it.",
                    code="settlement.amount_too_large", field="amount")
            take = value if open_amount > 0 else -value
        booked = line.debit - line.credit
        closes = take == open_amount
        if closes:  # the rest of its booked value, so a settled line is exactly zero
            value_taken = booked - (before.get("amount") or ZERO)
        else:
            value_taken = round_amount(booked * take / line.amount_currency, base)
        takes.append(_Take(line, round_amount(take, currency), round_amount(value_taken, base), closes))
    return takes


def settle_items(*, actor, company: Company, lines: Sequence, date: dt.date | None = None,
                 check_permission: bool = True) -> Settlement:
    """Settle all that is open of `lines` (ids of posted lines of one item), which must add
    up to zero: the form of `settle_open_items` the open items page and the API use."""
    return settle_open_items(actor=actor, company=company, allocations=list(lines or ()), date=date,
                             check_permission=check_permission)


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
    and the amounts it allocated are open again."""
    require(actor, settlement.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = (Settlement.objects.select_for_update(of=("self",)).select_related("company", "entry")
                  .filter(pk=settlement.pk).first())
        if locked is None or locked.status != SettlementStatus.POSTED:
            raise ValidationFailed("Only a posted settlement can be undone.", code="settlement.not_posted",
                                   field="status")
        line_ids = list(SettledLine.objects.filter(settlement=locked).values_list("line_id", flat=True))
        # The same locks as a settlement takes: no settlement of these lines crosses the undo.
        list(Line.objects.filter(pk__in=line_ids).order_by("pk").select_for_update(no_key=True)
             .values_list("pk", flat=True))
        if locked.entry is not None:
            locked.reversal = reverse_entry(actor=actor, entry=locked.entry, date=date or locked.date,
                                            description=f"Undo of settlement #{locked.pk}",
                                            undo_of_source=SETTLEMENT_SOURCE, check_permission=False)
        SettledLine.objects.filter(settlement=locked).update(is_active=False)
        # Its lines have an open amount again: no other allocation closes them any more.
        SettledLine.objects.filter(company_id=locked.company_id, line_id__in=line_ids, is_active=True,
                                   closes_line=True).update(closes_line=False)
        locked.status, locked.undone_at = SettlementStatus.UNDONE, timezone.now()
        locked.save(update_fields=["status", "undone_at", "reversal"])
        record(company=locked.company, actor=actor, verb=SETTLEMENT_UNDONE.name, subject=locked,
               subject_repr=f"Settlement #{locked.pk}",
               data={"reversal": locked.reversal.number if locked.reversal else None})
    return locked


# -- reads -----------------------------------------------------------------------------------


def settlement_accounts(company: Company) -> QuerySet[Account]:
    """The receivable and payable accounts whose items can be settled."""
    return Account.objects.for_company(company).filter(role__in=SETTLED_ROLES).order_by("code")


def list_open_items(company: Company, *, account: Account | None = None, party_id: int | None = None,
                    currency: str | None = None, foreign_only: bool = False) -> QuerySet[Line]:
    """Posted lines of receivable and payable accounts, in any currency, with an amount
    still open: no active allocation closes them (exchange differences, with no amount in
    their currency, are not items). `open_amounts` gives a page's open amounts."""
    lines = (Line.objects.for_company(company).posted()
             .filter(account__role__in=SETTLED_ROLES).exclude(amount_currency=0)
             .filter(~Exists(SettledLine.objects.filter(company=company, line=OuterRef("pk"), is_active=True,
                                                        closes_line=True))))
    if foreign_only:
        lines = lines.exclude(currency_id=company.base_currency_id)
    if account is not None:
        lines = lines.filter(account=account)
    if party_id is not None:
        lines = lines.filter(party_id=party_id)
    if currency:
        lines = lines.filter(currency_id=currency.upper())
    return lines.select_related("account", "party", "entry")


def open_amounts(company: Company, lines: Sequence[Line]) -> list[Line]:
    """`lines` with `open_amount_currency` and `open_amount` (its booked value) set: their
    amounts less their active allocations, read with one query."""
    lines = list(lines)
    settled = {row["line_id"]: row for row in SettledLine.objects.for_company(company)
               .filter(line_id__in=[line.pk for line in lines], is_active=True).order_by().values("line_id")
               .annotate(amount_currency=MoneySum("amount_currency"), amount=MoneySum("amount"))}
    for line in lines:
        row = settled.get(line.pk, {})
        line.open_amount_currency = line.amount_currency - (row.get("amount_currency") or ZERO)
        line.open_amount = line.debit - line.credit - (row.get("amount") or ZERO)
        line.is_partly_settled = bool(row)
    return lines


def open_item_totals(company: Company, lines: QuerySet[Line]) -> list[dict]:
    """Per (account, party, currency) of `lines`: the open amount in the item's currency and
    its booked value (lines' amounts less their active allocations; two grouped queries)."""
    rows = (lines.order_by().values("account__code", "party_id", "party__name", "currency_id")
            .annotate(amount_currency=MoneySum("amount_currency"), debit=MoneySum("debit"), credit=MoneySum("credit")))
    settled = {(r["line__account__code"], r["line__party_id"], r["line__currency_id"]): r
               for r in SettledLine.objects.for_company(company).filter(is_active=True, line__in=lines.values("pk"))
               .order_by().values("line__account__code", "line__party_id", "line__currency_id")
               .annotate(amount_currency=MoneySum("amount_currency"), amount=MoneySum("amount"))}
    totals = []
    for r in sorted(rows, key=lambda r: (r["account__code"], r["party__name"] or "", r["currency_id"])):
        done = settled.get((r["account__code"], r["party_id"], r["currency_id"]), {})
        totals.append({
            "account": r["account__code"], "party_id": r["party_id"], "party": r["party__name"] or "",
            "currency": r["currency_id"],
            "amount_currency": (r["amount_currency"] or ZERO) - (done.get("amount_currency") or ZERO),
            "booked": (r["debit"] or ZERO) - (r["credit"] or ZERO) - (done.get("amount") or ZERO)})
    return totals


def list_settlements(company: Company) -> QuerySet[Settlement]:
    return Settlement.objects.for_company(company).select_related("account", "party", "entry", "reversal")


def get_settlement(company: Company, settlement_id: int) -> Settlement:
    found = list_settlements(company).filter(pk=settlement_id).first()
    if found is None:
        raise NotFound(f"There is no settlement #{settlement_id} in {company.code}.", code="settlement.not_found")
    return found
