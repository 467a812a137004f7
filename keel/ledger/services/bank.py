"""Bank accounts, their matching rules and statement import.

A bank account is kept on one ledger account with the bank role and posts on a bank
journal. Statements are imported whole or not at all: a malformed file, a file or statement
id already imported, balances that do not add up, or an opening balance that does not
continue the previous statement's closing balance (unless the gap is accepted) write nothing.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.db import IntegrityError, transaction
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from keel.core.activity import record
from keel.core.db_money import MoneySum
from keel.core.exceptions import NotFound, ValidationFailed
from keel.core.models import Company, Currency
from keel.core.money import format_amount
from keel.ledger.bank import FORMATS, StatementError, parse_statement
from keel.ledger.bank.csv import clean_mapping
from keel.ledger.choices import AccountRole, JournalKind
from keel.ledger.events import BANK_ACCOUNT_CHANGED, BANK_RULES_CHANGED, BANK_STATEMENT_IMPORTED
from keel.ledger.models import Account, Journal, Line
from keel.ledger.models.bank import BankAccount, BankMatchingRules, BankStatement, BankStatementLine
from keel.ledger.services._common import require

ZERO = Decimal(0)
MAX_FILE_SIZE = 5 * 1024 * 1024
AMOUNT_LIMIT = Decimal(10) ** 16


# -- bank accounts ----------------------------------------------------------------------------


def validate_iban(value: str, *, field: str = "iban") -> str:
    """The compact IBAN, or '' for none; a clear error naming the field otherwise."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        raise ValidationFailed(f"'{value[:40]}' is not a valid IBAN: {exc}.", code="bank_account.invalid_iban", field=field)


def validate_bic(value: str, *, field: str = "bic") -> str:
    value = (value or "").strip()
    if not value:
        return ""
    try:
        return BIC(value).compact
    except SchwiftyException as exc:
        raise ValidationFailed(f"'{value[:40]}' is not a valid BIC: {exc}.", code="bank_account.invalid_bic", field=field)


def _owned(model, company: Company, value, *, field: str, label: str):
    if value is None or value == "":
        return None
    if isinstance(value, model):
        if value.company_id != company.pk:
            raise ValidationFailed(f"That {label} belongs to another company.", code=f"bank_account.invalid_{field}",
                                   field=field)
        return value
    queryset = model.objects.for_company(company)
    found = None
    if isinstance(value, int) and not isinstance(value, bool):
        found = queryset.filter(pk=value).first()
    elif isinstance(value, str):
        found = queryset.filter(code=value.strip()).first()
    if found is None:
        raise ValidationFailed(f"There is no {label} '{value}' in {company.code}.", code=f"bank_account.invalid_{field}",
                               field=field)
    return found


def _clean(company: Company, *, name, iban, bic, currency, account, journal, instance: BankAccount | None) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("A bank account needs a name of at most 100 characters.", code="bank_account.invalid_name",
                               field="name")
    iban, bic = validate_iban(iban), validate_bic(bic)
    if isinstance(currency, Currency):
        code = currency.code
    else:
        code = str(currency or company.base_currency_id or "").strip().upper()
    if not Currency.objects.filter(code=code, is_active=True).exists():
        raise ValidationFailed(f"'{code}' is not a known currency.", code="bank_account.invalid_currency", field="currency")
    ledger_account = _owned(Account, company, account, field="account", label="ledger account")
    if ledger_account is None:
        raise ValidationFailed("Choose the ledger account (role bank) the bank account is kept on.",
                               code="bank_account.invalid_account", field="account")
    if ledger_account.role != AccountRole.BANK:
        raise ValidationFailed(f"Account {ledger_account.code} does not have the bank role.",
                               code="bank_account.invalid_account", field="account")
    if not ledger_account.is_active:
        raise ValidationFailed(f"Account {ledger_account.code} is inactive.", code="bank_account.invalid_account",
                               field="account")
    if ledger_account.currency_id and ledger_account.currency_id != code:
        raise ValidationFailed(f"Account {ledger_account.code} only takes {ledger_account.currency_id}; the bank account "
                               f"is in {code}.", code="bank_account.invalid_currency", field="currency")
    taken = BankAccount.objects.for_company(company).filter(account=ledger_account)
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        raise ValidationFailed(f"Account {ledger_account.code} is already the ledger account of another bank account.",
                               code="bank_account.account_taken", field="account")
    bank_journal = _owned(Journal, company, journal or "BNK", field="journal", label="journal")
    if bank_journal.kind != JournalKind.BANK:
        raise ValidationFailed(f"Journal {bank_journal.code} is not a bank journal.", code="bank_account.invalid_journal",
                               field="journal")
    others = BankAccount.objects.for_company(company)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.filter(name=name).exists():
        raise ValidationFailed(f"A bank account named '{name}' exists already.", code="bank_account.duplicate_name",
                               field="name")
    if iban and others.filter(iban=iban).exists():
        raise ValidationFailed(f"The IBAN {iban} belongs to another bank account.", code="bank_account.duplicate_iban",
                               field="iban")
    return {"name": name, "iban": iban, "bic": bic, "currency_id": code, "account": ledger_account,
            "journal": bank_journal}


def create_bank_account(
    *, actor, company: Company, name: str, account, iban: str = "", bic: str = "", currency: str | None = None,
    journal=None, check_permission: bool = True,
) -> BankAccount:
    """Add a bank account kept on `account` (a ledger account with the bank role)."""
    require(actor, company, "bank.manage", check_permission=check_permission)
    values = _clean(company, name=name, iban=iban, bic=bic, currency=currency, account=account, journal=journal,
                    instance=None)
    try:
        with transaction.atomic():
            bank_account = BankAccount.objects.create(company=company, **values)
            record(company=company, actor=actor, verb=BANK_ACCOUNT_CHANGED.name, subject=bank_account,
                   data={"action": "created", "name": bank_account.name, "iban": bank_account.iban})
    except IntegrityError:
        raise ValidationFailed("That bank account exists already.", code="bank_account.duplicate", field="name")
    return bank_account


def update_bank_account(*, actor, bank_account: BankAccount, check_permission: bool = True, **changes) -> BankAccount:
    """Change name, IBAN, BIC, currency, ledger account or journal (the others keep their value)."""
    company = bank_account.company
    require(actor, company, "bank.manage", check_permission=check_permission)
    unknown = set(changes) - {"name", "iban", "bic", "currency", "account", "journal"}
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="bank_account.invalid")
    current = {"name": bank_account.name, "iban": bank_account.iban, "bic": bank_account.bic,
               "currency": bank_account.currency_id, "account": bank_account.account, "journal": bank_account.journal}
    merged = {**current, **{k: v for k, v in changes.items() if v is not None}}
    values = _clean(company, instance=bank_account, **merged)
    has_statements = bank_account.statements.exists()
    if has_statements and (values["currency_id"] != bank_account.currency_id
                           or values["account"].pk != bank_account.account_id):
        raise ValidationFailed("The bank account has statements: its currency and ledger account can no longer change.",
                               code="bank_account.in_use", field="currency" if values["currency_id"] != bank_account.currency_id
                               else "account")
    with transaction.atomic():
        for key, value in values.items():
            setattr(bank_account, key, value)
        try:
            with transaction.atomic():
                bank_account.save()
        except IntegrityError:
            raise ValidationFailed("Another bank account has that name, IBAN or ledger account.",
                                   code="bank_account.duplicate", field="name")
        record(company=company, actor=actor, verb=BANK_ACCOUNT_CHANGED.name, subject=bank_account,
               data={"action": "changed", **{k: str(v) for k, v in changes.items() if v is not None}})
    return bank_account


def set_bank_account_active(*, actor, bank_account: BankAccount, is_active: bool, check_permission: bool = True) -> BankAccount:
    """Deactivate (no more imports) or reactivate a bank account; its statements stay."""
    require(actor, bank_account.company, "bank.manage", check_permission=check_permission)
    with transaction.atomic():
        bank_account.is_active = is_active
        bank_account.save(update_fields=["is_active"])
        record(company=bank_account.company, actor=actor, verb=BANK_ACCOUNT_CHANGED.name, subject=bank_account,
               data={"action": "activated" if is_active else "deactivated"})
    return bank_account


# -- matching rules ---------------------------------------------------------------------------


def get_matching_rules(company: Company) -> BankMatchingRules:
    """The company's rules (the defaults until someone changes them; not saved by reading)."""
    return BankMatchingRules.objects.for_company(company).first() or BankMatchingRules(company=company)


def update_matching_rules(
    *, actor, company: Company, require_equal_amount: bool, date_window_days: int, match_reference: bool,
    match_party: bool, check_permission: bool = True,
) -> BankMatchingRules:
    require(actor, company, "bank.manage", check_permission=check_permission)
    if isinstance(date_window_days, bool) or not isinstance(date_window_days, int) or not 0 <= date_window_days <= 90:
        raise ValidationFailed("The date window is 0 to 90 days.", code="bank_rules.invalid", field="date_window_days")
    if not require_equal_amount and not (match_reference or match_party):
        raise ValidationFailed("Without the equal-amount rule, match at least on reference or party.",
                               code="bank_rules.invalid", field="require_equal_amount")
    with transaction.atomic():
        rules, _created = BankMatchingRules.objects.select_for_update().get_or_create(company=company)
        rules.require_equal_amount, rules.date_window_days = bool(require_equal_amount), date_window_days
        rules.match_reference, rules.match_party = bool(match_reference), bool(match_party)
        rules.save()
        record(company=company, actor=actor, verb=BANK_RULES_CHANGED.name, subject=rules,
               data={"require_equal_amount": rules.require_equal_amount, "date_window_days": date_window_days,
                     "match_reference": rules.match_reference, "match_party": rules.match_party})
    return rules


# -- statements -------------------------------------------------------------------------------


def ledger_balance(bank_account: BankAccount, on_date) -> Decimal:
    """The bank account's balance in the ledger (posted lines up to `on_date`), in its currency."""
    total = (
        Line.objects.for_company(bank_account.company_id)
        .filter(account_id=bank_account.account_id, currency_id=bank_account.currency_id, date__lte=on_date)
        .posted()
        .aggregate(total=MoneySum("amount_currency"))["total"]
    )
    return total or ZERO


def _malformed(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="statement.malformed", field="file")


def _check_amount(value: Decimal, decimals: int, what: str) -> Decimal:
    if not value.is_finite() or abs(value) >= AMOUNT_LIMIT:
        raise _malformed(f"{what}: '{value}' is not a usable amount.")
    if value != value.quantize(Decimal(1).scaleb(-decimals)):
        raise _malformed(f"{what}: '{value}' has more than {decimals} decimals.")
    return value


def import_statement(
    *, actor, bank_account: BankAccount, file_format: str, data: bytes, file_name: str = "",
    mapping: dict | None = None, opening_balance: Decimal | None = None, accept_balance_gap: bool = False,
    check_permission: bool = True,
) -> BankStatement:
    """Read a statement file and store it with its lines; refusals write nothing.

    CSV: `mapping` (saved on the bank account for next time; the saved one when omitted);
    the opening balance is `opening_balance`, else the previous statement's closing.
    """
    company = bank_account.company
    require(actor, company, "bank.import", check_permission=check_permission)
    if not bank_account.is_active:
        raise ValidationFailed(f"The bank account {bank_account.name} is inactive.", code="statement.inactive_account",
                               field="bank_account")
    if file_format not in FORMATS:
        raise ValidationFailed(f"'{file_format}' is not a statement format; use one of {', '.join(FORMATS)}.",
                               code="statement.invalid_format", field="format")
    if not data:
        raise ValidationFailed("The file is empty.", code="statement.malformed", field="file")
    if len(data) > MAX_FILE_SIZE:
        raise ValidationFailed("The file is larger than 5 MB.", code="statement.too_large", field="file")
    if file_format == "csv":
        mapping = mapping if mapping else dict(bank_account.csv_mapping or {})
        try:
            mapping = clean_mapping(mapping)
        except StatementError as exc:
            raise ValidationFailed(exc.message, code="statement.invalid_mapping", field="mapping")
    file_hash = hashlib.sha256(data).hexdigest()
    statements = BankStatement.objects.for_company(company).filter(bank_account=bank_account)
    earlier = statements.filter(file_hash=file_hash).first()
    if earlier is not None:
        raise ValidationFailed(f"This file was imported already as statement {earlier.reference} "
                               f"on {earlier.imported_at:%Y-%m-%d}.", code="statement.duplicate", field="file")
    try:
        parsed = parse_statement(file_format, data, mapping=mapping)
    except StatementError as exc:
        raise _malformed(f"The {FORMATS[file_format]} file cannot be imported. {exc.message}")
    currency = bank_account.currency_id
    decimals = Currency.objects.get(code=currency).decimals
    if parsed.currency and parsed.currency.upper() != currency:
        raise _malformed(f"The statement is in {parsed.currency}; the bank account {bank_account.name} is in {currency}.")
    if parsed.account_iban and bank_account.iban and parsed.account_iban.replace(" ", "").upper() != bank_account.iban \
            and parsed.account_iban[:2].isalpha():
        raise ValidationFailed(f"The statement is for account {parsed.account_iban}, not {bank_account.iban}.",
                               code="statement.wrong_account", field="file")
    for position, line in enumerate(parsed.lines, 1):
        if line.currency and line.currency.upper() != currency:
            raise _malformed(f"Transaction {position} is in {line.currency}; the statement is in {currency}.")
        _check_amount(line.amount, decimals, f"Transaction {position}")
    total = sum((line.amount for line in parsed.lines), ZERO)
    previous = statements.order_by("-date_to", "-id").first()
    if parsed.opening_balance is None:  # CSV: no balances in the file
        if opening_balance is not None:
            opening = Decimal(opening_balance)
        else:
            opening = previous.closing_balance if previous is not None else ZERO
        closing = opening + total
    else:
        opening, closing = parsed.opening_balance, parsed.closing_balance
    _check_amount(opening, decimals, "Opening balance")
    _check_amount(closing, decimals, "Closing balance")
    if opening + total != closing:
        shown = {name: format_amount(value, decimals) for name, value in
                 (("opening", opening), ("total", total), ("sum", opening + total), ("closing", closing))}
        raise _malformed(f"The balances do not add up: opening {shown['opening']} plus the transactions "
                         f"{shown['total']} is {shown['sum']}, but the closing balance is {shown['closing']} {currency}.")
    days = [line.date for line in parsed.lines]
    date_from = parsed.date_from or (min(days) if days else None)
    date_to = parsed.date_to or (max(days) if days else None)
    if date_from is None or date_to is None:
        raise _malformed("The statement has no dates: no period and no transactions.")
    if date_to < date_from:
        raise _malformed(f"The statement ends ({date_to}) before it starts ({date_from}).")
    if not parsed.statement_id:
        raise _malformed("The statement has no id.")
    if statements.filter(reference=parsed.statement_id).exists():
        raise ValidationFailed(f"Statement {parsed.statement_id} of {bank_account.name} was imported already.",
                               code="statement.duplicate", field="file")
    gap = ZERO
    if previous is not None and previous.closing_balance != opening:
        gap = opening - previous.closing_balance
        if not accept_balance_gap:
            raise ValidationFailed(
                f"The opening balance {format_amount(opening, decimals)} does not continue the closing balance "
                f"{format_amount(previous.closing_balance, decimals)} of statement {previous.reference} (to "
                f"{previous.date_to}): difference {format_amount(gap, decimals)} {currency}. Import the "
                "missing statement first, or accept the gap.",
                code="statement.balance_gap", field="opening_balance",
            )
    try:
        with transaction.atomic():
            statement = BankStatement.objects.create(
                company=company, bank_account=bank_account, reference=parsed.statement_id, file_format=file_format,
                file_name=(file_name or "")[:200], file_hash=file_hash, date_from=date_from, date_to=date_to,
                currency_id=currency, opening_balance=opening, closing_balance=closing, balance_gap=gap,
                imported_by=actor if getattr(actor, "pk", None) else None,
            )
            BankStatementLine.objects.bulk_create([
                BankStatementLine(
                    company=company, statement=statement, position=position, date=line.date, amount=line.amount,
                    currency_id=currency, counterparty_name=line.counterparty_name, counterparty_iban=line.counterparty_iban,
                    reference=line.reference, description=line.description, transaction_id=line.transaction_id,
                ) for position, line in enumerate(parsed.lines, 1)
            ])
            if file_format == "csv" and mapping != bank_account.csv_mapping:
                bank_account.csv_mapping = mapping
                bank_account.save(update_fields=["csv_mapping"])
            record(company=company, actor=actor, verb=BANK_STATEMENT_IMPORTED.name, subject=statement,
                   subject_repr=f"{bank_account.name} {statement.reference}",
                   data={"bank_account": bank_account.name, "reference": statement.reference, "format": file_format,
                         "lines": len(parsed.lines), "opening_balance": opening, "closing_balance": closing,
                         "balance_gap": gap})
    except IntegrityError:
        raise ValidationFailed("This statement was imported already (at the same time).", code="statement.duplicate",
                               field="file")
    return statement


def get_bank_account(company: Company, bank_account_id) -> BankAccount:
    found = BankAccount.objects.for_company(company).select_related("account", "journal").filter(pk=bank_account_id).first()
    if found is None:
        raise NotFound("No such bank account.", code="record.not_found")
    return found
