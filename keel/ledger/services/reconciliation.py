"""Reconciling bank statement lines with the ledger lines of the bank account.

`propose_matches` applies the company's rules; `reconcile_statement_line` takes ledger lines
(one, or several for a split) and optionally books the difference to an account (a write-off,
or the whole line when nothing matches: bank fees, interest) through the posting service on
the bank journal; `unreconcile_statement_line` undoes it and reverses the entry it posted.
The statement line is locked (SELECT ... FOR UPDATE) while it is reconciled, so of two
people reconciling it at once the second is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from keel.core.activity import record
from keel.core.exceptions import Conflict, KeelError, NotFound, ValidationFailed
from keel.core.models import Company, Party
from keel.core.money import format_money, parse_amount, round_amount
from keel.core.records import parse_id
from keel.core.services.currencies import get_rate
from keel.ledger.bank.matching import LedgerItem, Proposal, Rules, StatementItem, propose
from keel.ledger.choices import PARTY_ROLES, EntryStatus
from keel.ledger.events import BANK_LINE_RECONCILED, BANK_LINE_UNRECONCILED
from keel.ledger.models import Account, Line
from keel.ledger.models.bank import (
    BankAccount,
    BankMatch,
    BankReconciliation,
    BankStatement,
    BankStatementLine,
)
from keel.ledger.services._common import require
from keel.ledger.services.bank import get_matching_rules, ledger_balance
from keel.ledger.services.posting import LineInput, post_entry, reverse_entry

ZERO = Decimal(0)
SOURCE_TYPE = "ledger.bankstatementline"
PURPOSE = "reconciliation"  # the difference booked on reconciling; undone only by unreconciling


def open_bank_lines(bank_account: BankAccount) -> QuerySet[Line]:
    """Posted ledger lines on the bank's ledger account that no statement line took yet.

    Reversed entries and their reversals cancel out and are left aside.
    """
    matched = BankMatch.objects.filter(company_id=bank_account.company_id, line_id=OuterRef("pk"))
    return (
        Line.objects.for_company(bank_account.company_id)
        .filter(account_id=bank_account.account_id, currency_id=bank_account.currency_id,
                entry__status=EntryStatus.POSTED, entry__reversal_of__isnull=True)
        .exclude(Exists(matched))
        .select_related("entry", "party")
    )


def _rules(company: Company) -> Rules:
    rules = get_matching_rules(company)
    return Rules(rules.require_equal_amount, rules.date_window_days, rules.match_reference, rules.match_party)


def propose_matches(statement: BankStatement) -> dict[int, list[Proposal]]:
    """Proposals for the statement's unreconciled lines: {statement_line_id: [Proposal, ...]}."""
    lines = list(statement.lines.filter(is_reconciled=False))
    if not lines:
        return {}
    rules = _rules(statement.company)
    window = dt.timedelta(days=rules.date_window_days)
    first, last = min(line.date for line in lines) - window, max(line.date for line in lines) + window
    candidates = open_bank_lines(statement.bank_account).filter(date__gte=first, date__lte=last)
    ledger_items = [
        LedgerItem(line.pk, line.date, line.amount_currency, line.entry.reference, line.label, line.party_id,
                   line.party.name if line.party_id else "")
        for line in candidates
    ]
    ibans = {line.counterparty_iban for line in lines if line.counterparty_iban}
    iban_parties: dict[str, set[int]] = {}
    if ibans and rules.match_party:
        rows = BankMatch.objects.for_company(statement.company).filter(
            reconciliation__statement_line__counterparty_iban__in=ibans, line__party__isnull=False,
        ).values_list("reconciliation__statement_line__counterparty_iban", "line__party_id")
        for iban, party_id in rows:
            iban_parties.setdefault(iban, set()).add(party_id)
    items = [StatementItem(line.pk, line.date, line.amount, line.reference, line.description, line.counterparty_name,
                           line.counterparty_iban) for line in lines]
    return propose(items, ledger_items, rules, iban_parties)


def _write_off_account(company: Company, value) -> Account:
    if isinstance(value, Account):
        account = value if value.company_id == company.pk else None
    elif isinstance(value, int) and not isinstance(value, bool):
        account = Account.objects.for_company(company).filter(pk=value).first()
    else:
        account = Account.objects.for_company(company).filter(code=str(value).strip()).first()
    if account is None:
        raise ValidationFailed(f"There is no account '{value}' in {company.code}.", code="reconciliation.invalid_account",
                               field="write_off_account")
    return account


def _write_off_party(company: Company, value) -> int | None:
    if value in (None, ""):
        return None
    wanted = parse_id(value.pk if isinstance(value, Party) else value)
    if wanted is None:
        raise ValidationFailed(f"'{value}' is not a party id.", code="reconciliation.invalid_party",
                               field="write_off_party")
    party_id = Party.objects.for_company(company).filter(pk=wanted).values_list("pk", flat=True).first()
    if party_id is None:
        raise NotFound(f"There is no party #{wanted} in {company.code}.", code="party.not_found", field="write_off_party")
    return party_id


def reconcile_statement_line(
    *, actor, statement_line: BankStatementLine, line_ids: Sequence[int] = (), write_off_account=None,
    write_off_label: str = "", write_off_party=None, check_permission: bool = True,
) -> BankReconciliation:
    """Reconcile a statement line with ledger lines; book any difference to `write_off_account`
    (on a receivable or payable account, for `write_off_party`: an open item needs its party).

    The matched lines plus the write-off equal the statement line's amount, or nothing is done.
    """
    company = statement_line.company
    require(actor, company, "bank.reconcile", check_permission=check_permission)
    line_ids = list(dict.fromkeys(line_ids or []))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in line_ids):
        raise ValidationFailed("Ledger lines are given by their ids.", code="reconciliation.invalid_lines", field="line_ids")
    if not line_ids and write_off_account in (None, ""):
        raise ValidationFailed("Choose the ledger lines that match, or an account to book the line to.",
                               code="reconciliation.nothing_chosen", field="line_ids")
    if len(write_off_label or "") > 200:
        raise ValidationFailed("The label has at most 200 characters.", code="reconciliation.invalid_label",
                               field="write_off_label")
    with transaction.atomic():
        locked = (BankStatementLine.objects.for_company(company).select_for_update()
                  .filter(pk=statement_line.pk).first())
        if locked is None:
            raise NotFound("No such statement line.", code="record.not_found")
        if locked.is_reconciled:
            done = BankReconciliation.objects.for_company(company).filter(statement_line=locked).select_related(
                "created_by").first()
            who = f" by {done.created_by.username}" if done is not None and done.created_by_id else ""
            raise Conflict(f"This statement line was reconciled already{who}; undo that reconciliation first.",
                           code="statement_line.already_reconciled", field="line_ids")
        bank_account = BankAccount.objects.select_related("account", "journal", "currency").get(
            pk=locked.statement.bank_account_id)
        chosen = list(Line.objects.for_company(company).filter(pk__in=line_ids).select_related("entry"))
        if len(chosen) != len(line_ids):
            missing = sorted(set(line_ids) - {line.pk for line in chosen})
            raise ValidationFailed(f"There is no ledger line {', '.join(map(str, missing))} in {company.code}.",
                                   code="reconciliation.invalid_lines", field="line_ids")
        for line in chosen:
            if line.account_id != bank_account.account_id or line.currency_id != bank_account.currency_id:
                raise ValidationFailed(f"Ledger line {line.pk} is not on {bank_account.account} in {bank_account.currency_id}.",
                                       code="reconciliation.invalid_lines", field="line_ids")
            if line.entry.status != EntryStatus.POSTED or line.entry.reversal_of_id:
                raise ValidationFailed(f"Ledger line {line.pk} is not on a posted entry.",
                                       code="reconciliation.invalid_lines", field="line_ids")
        taken = BankMatch.objects.for_company(company).filter(line_id__in=line_ids).values_list("line_id", flat=True)
        if taken:
            raise Conflict(f"Ledger line {', '.join(map(str, sorted(taken)))} is reconciled with another statement line.",
                           code="reconciliation.line_taken", field="line_ids")
        matched = sum((line.amount_currency for line in chosen), ZERO)
        difference = locked.amount - matched
        entry = None
        if difference:
            if write_off_account in (None, ""):
                raise ValidationFailed(
                    f"The ledger lines sum to {format_money(matched, bank_account.currency)}; the statement line is "
                    f"{format_money(locked.amount, bank_account.currency)} (difference "
                    f"{format_money(difference, bank_account.currency)} {bank_account.currency_id}). Choose more lines "
                    "or book the difference to an account.",
                    code="reconciliation.unbalanced", field="line_ids",
                )
            account = _write_off_account(company, write_off_account)
            if account.pk == bank_account.account_id:
                raise ValidationFailed("Book the difference to another account than the bank's.",
                                       code="reconciliation.invalid_account", field="write_off_account")
            party = _write_off_party(company, write_off_party)
            if account.role in PARTY_ROLES and party is None:
                raise ValidationFailed(
                    f"Statement line #{locked.pk} ({locked.date:%Y-%m-%d}, {format_money(locked.amount, bank_account.currency)}"
                    f" {bank_account.currency_id}): account {account.code} is a {account.get_role_display().lower()} "
                    "account; name the party its line is for.", code="reconciliation.party_required",
                    field="write_off_party")
            label = (write_off_label or locked.description or locked.counterparty_name or "Bank statement")[:200]
            amount = abs(difference)
            bank_side = {"debit" if difference > 0 else "credit": amount}
            if bank_account.currency_id != company.base_currency_id:
                # The bank line in the bank's currency at the day's rate; the fee or interest
                # in the company's currency (its value that day): no foreign line on an expense.
                try:
                    rate = get_rate(company=company, currency=bank_account.currency_id, on_date=locked.date)
                except KeelError as exc:
                    raise ValidationFailed(exc.message, code="rate.not_found", field="write_off_account")
                amount = round_amount(amount * rate, company.base_currency_id)
                bank_side = {**{side: amount for side in bank_side}, "currency": bank_account.currency_id,
                             "amount_currency": difference}
            other_side = {"credit" if difference > 0 else "debit": amount}
            entry = post_entry(
                actor=actor, company=company, journal=bank_account.journal, date=locked.date,
                lines=[LineInput(account=bank_account.account_id, label=label, **bank_side),
                       LineInput(account=account.pk, label=label, party=party, **other_side)],
                reference=(locked.reference or locked.transaction_id)[:100],
                description=f"Bank statement {locked.statement.reference}: {label}"[:500],
                source_type=SOURCE_TYPE, source_id=str(locked.pk), purpose=PURPOSE, check_permission=check_permission,
            )
            chosen.append(Line.objects.get(entry=entry, account_id=bank_account.account_id))
        reconciliation = BankReconciliation.objects.create(
            company=company, statement_line=locked, entry=entry,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        try:
            with transaction.atomic():
                BankMatch.objects.bulk_create([
                    BankMatch(company=company, reconciliation=reconciliation, line=line, amount=line.amount_currency)
                    for line in chosen
                ])
        except IntegrityError:
            raise Conflict("A chosen ledger line was just reconciled by someone else.", code="reconciliation.line_taken",
                           field="line_ids")
        locked.is_reconciled = True
        locked.save(update_fields=["is_reconciled"])
        record(company=company, actor=actor, verb=BANK_LINE_RECONCILED.name, subject=locked.statement,
               subject_repr=f"{bank_account.name} {locked.statement.reference}",
               data={"statement_line": locked.pk, "amount": locked.amount, "ledger_lines": [line.pk for line in chosen],
                     "entry": entry.number if entry else None, "difference": difference})
    statement_line.is_reconciled = True
    return reconciliation


def unreconcile_statement_line(*, actor, statement_line: BankStatementLine, check_permission: bool = True) -> BankStatementLine:
    """Undo a reconciliation: unlink the ledger lines; reverse the entry it posted, if any."""
    company = statement_line.company
    require(actor, company, "bank.reconcile", check_permission=check_permission)
    with transaction.atomic():
        locked = (BankStatementLine.objects.for_company(company).select_for_update()
                  .filter(pk=statement_line.pk).first())
        if locked is None:
            raise NotFound("No such statement line.", code="record.not_found")
        reconciliation = BankReconciliation.objects.for_company(company).filter(statement_line=locked).select_related(
            "entry").first()
        if not locked.is_reconciled or reconciliation is None:
            raise Conflict("This statement line is not reconciled.", code="statement_line.not_reconciled")
        entry = reconciliation.entry
        reconciliation.matches.all().delete()
        reconciliation.delete()
        reversal = None
        if entry is not None:
            reversal = reverse_entry(actor=actor, entry=entry, date=entry.date,
                                     description=f"Undo of bank reconciliation ({entry.number})",
                                     undo_of_source=SOURCE_TYPE, check_permission=check_permission)
        locked.is_reconciled = False
        locked.save(update_fields=["is_reconciled"])
        record(company=company, actor=actor, verb=BANK_LINE_UNRECONCILED.name, subject=locked.statement,
               data={"statement_line": locked.pk, "reversed_entry": entry.number if entry else None,
                     "reversal": reversal.number if reversal else None})
    statement_line.is_reconciled = False
    return locked


# -- reads ------------------------------------------------------------------------------------


@dataclass
class StatementSummary:
    """The statement against the ledger: never hide the difference."""

    statement: BankStatement
    closing_balance: Decimal
    ledger_balance: Decimal
    difference: Decimal
    lines: int
    reconciled: int

    @property
    def agrees(self) -> bool:
        return self.difference == 0


def statement_summary(statement: BankStatement) -> StatementSummary:
    counts = statement.lines.aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(is_reconciled=True)),
    )
    balance = ledger_balance(statement.bank_account, statement.date_to)
    return StatementSummary(statement, statement.closing_balance, balance, statement.closing_balance - balance,
                            counts["total"], counts["done"])


def _amount_searched(search: str) -> list[Decimal]:
    """A search that reads as an amount ('995', '-12.50', '1,234.50', '$12.50') also finds it,
    either sign; read by the core parser, so what a bank file shows is found as it is."""
    try:
        amount = parse_amount(search, lenient=True)
    except ValidationFailed:
        return []
    return [amount, -amount] if amount else []


def _dated_between(lines: QuerySet, date_from: dt.date | None, date_to: dt.date | None) -> QuerySet:
    if date_from is not None:
        lines = lines.filter(date__gte=date_from)
    if date_to is not None:
        lines = lines.filter(date__lte=date_to)
    return lines


def unreconciled_statement_lines(
    company: Company, bank_account: BankAccount | None = None, *, date_from: dt.date | None = None,
    date_to: dt.date | None = None, search: str = "",
) -> QuerySet[BankStatementLine]:
    """Statement lines not reconciled, optionally of one bank account, in a date range, or
    whose counterparty, reference, text or transaction id contains `search` (or whose amount it is)."""
    lines = BankStatementLine.objects.for_company(company).filter(is_reconciled=False).select_related(
        "statement", "statement__bank_account")
    if bank_account is not None:
        lines = lines.filter(statement__bank_account=bank_account)
    lines = _dated_between(lines, date_from, date_to)
    search = (search or "").strip()
    if search:
        found = (Q(counterparty_name__icontains=search) | Q(reference__icontains=search)
                 | Q(description__icontains=search) | Q(transaction_id__icontains=search))
        if amounts := _amount_searched(search):
            found |= Q(amount__in=amounts)
        lines = lines.filter(found)
    return lines.order_by("date", "id")


def unreconciled_ledger_lines(
    company: Company, bank_account: BankAccount | None = None, *, date_from: dt.date | None = None,
    date_to: dt.date | None = None, search: str = "",
) -> QuerySet[Line]:
    """Posted bank lines on no statement line (of every bank account, or one), optionally in a
    date range, or whose label, entry reference or description, or party contains `search`
    (or whose amount it is)."""
    accounts = BankAccount.objects.for_company(company)
    if bank_account is not None:
        accounts = accounts.filter(pk=bank_account.pk)
    matched = BankMatch.objects.filter(company_id=company.pk, line_id=OuterRef("pk"))
    lines = (
        Line.objects.for_company(company)
        .filter(account_id__in=accounts.values("account_id"), entry__status=EntryStatus.POSTED,
                entry__reversal_of__isnull=True)
        .exclude(Exists(matched))
    )
    lines = _dated_between(lines, date_from, date_to)
    search = (search or "").strip()
    if search:
        found = (Q(label__icontains=search) | Q(entry__reference__icontains=search)
                 | Q(entry__description__icontains=search) | Q(party__name__icontains=search))
        if amounts := _amount_searched(search):
            found |= Q(amount_currency__in=amounts)
        lines = lines.filter(found)
    return lines.select_related("entry", "account", "party").order_by("date", "id")


def get_statement_line(company: Company, statement_line_id) -> BankStatementLine:
    found = (BankStatementLine.objects.for_company(company).select_related("statement", "statement__bank_account")
             .filter(pk=statement_line_id).first())
    if found is None:
        raise NotFound("No such statement line.", code="record.not_found")
    return found
