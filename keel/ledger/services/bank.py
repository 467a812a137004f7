"""Bank accounts, their matching rules and statement import.

A bank account is kept on one ledger account with the bank role and posts on a bank
journal. Statements are imported whole or not at all: a malformed file, a file or statement
id already imported, lines that repeat lines imported already for the bank account (unless
confirmed), balances that do not add up, or an opening balance that does not continue the
previous statement's closing balance (unless the gap is accepted) write nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from keel.core.access import has_permission
from keel.core.activity import record
from keel.core.db_money import MoneySum
from keel.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Company, Currency
from keel.core.money import MAX_AMOUNT, MAX_AMOUNT_TEXT, format_amount
from keel.ledger.bank import FORMATS, ParsedLine, ParsedStatement, StatementError, parse_statements
from keel.ledger.bank.csv import clean_mapping
from keel.ledger.choices import AccountRole, JournalKind
from keel.ledger.events import BANK_ACCOUNT_CHANGED, BANK_RULES_CHANGED, BANK_STATEMENT_IMPORTED
from keel.ledger.models import Account, Journal, Line
from keel.ledger.models.bank import BankAccount, BankMatchingRules, BankStatement, BankStatementLine
from keel.ledger.services._common import require

ZERO = Decimal(0)
MAX_FILE_SIZE = 5 * 1024 * 1024
# What banks write where a transaction has no id of its own.
NO_TRANSACTION_ID = {"NONREF", "NOTPROVIDED", "NONE"}
# Importing a statement whose balances do not add up, flagged (LedgerConfig registers it).
UNBALANCED_PERMISSION = "bank.import_unbalanced"


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
    # The bank account's balance, reconciliation and revaluation read its currency's amounts:
    # lines in another currency on its ledger account would be in the books but not in the bank.
    stray = (Line.objects.for_company(company).filter(account=ledger_account).exclude(currency_id=code)
             .values_list("currency_id", flat=True).first())
    if stray is not None:
        raise ValidationFailed(f"Account {ledger_account.code} has {stray} lines: a {code} bank account's ledger account "
                               f"holds {code} amounts only. Choose another account.",
                               code="bank_account.currency_mismatch", field="currency")
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
    unknown = set(changes) - {"name", "iban", "bic", "currency", "account", "journal", "csv_mapping"}
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="bank_account.invalid")
    csv_mapping = changes.pop("csv_mapping", None)
    if csv_mapping is not None:
        csv_mapping = validate_csv_mapping(csv_mapping, field="csv_mapping", code="bank_account.invalid_mapping")
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
        if csv_mapping is not None:
            bank_account.csv_mapping = csv_mapping
        try:
            with transaction.atomic():
                bank_account.save()
        except IntegrityError:
            raise ValidationFailed("Another bank account has that name, IBAN or ledger account.",
                                   code="bank_account.duplicate", field="name")
        data = {"action": "changed", **{k: str(v) for k, v in changes.items() if v is not None}}
        if csv_mapping is not None:
            data["csv_mapping"] = csv_mapping
        record(company=company, actor=actor, verb=BANK_ACCOUNT_CHANGED.name, subject=bank_account, data=data)
    return bank_account


def validate_csv_mapping(mapping, *, field: str = "mapping", code: str = "statement.invalid_mapping") -> dict:
    """A bank account's CSV column mapping with its defaults filled in, or a coded error.

    `{}` removes the mapping. The same `clean_mapping` checks the mapping an import is given
    (from the import page or the endpoint), so a mapping saved here is one the import takes.
    """
    if not isinstance(mapping, dict):
        raise ValidationFailed("The CSV mapping is an object of settings (date_column, amount_column...).",
                               code=code, field=field)
    if not mapping:
        return {}
    try:
        return clean_mapping(mapping)
    except StatementError as exc:
        raise ValidationFailed(exc.message, code=code, field=field)


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
    if not value.is_finite():
        raise _malformed(f"{what}: '{value}' is not a usable amount.")
    if abs(value) > MAX_AMOUNT:  # what SQLite stores exactly: never stored rounded
        raise ValidationFailed(f"{what}: {format_amount(value, decimals)} is too large: Keel stores amounts up to "
                               f"{MAX_AMOUNT_TEXT} exactly.", code="money.too_large", field="file")
    if value != value.quantize(Decimal(1).scaleb(-decimals)):
        raise _malformed(f"{what}: '{value}' has more than {decimals} decimals.")
    return value


def _transaction_id(value: str) -> str:
    """The bank's id of a transaction as compared across imports ('' when it gave none)."""
    value = (value or "").strip()
    return "" if value.upper() in NO_TRANSACTION_ID else value


def _words(value: str) -> str:
    return " ".join((value or "").split()).casefold()


def _content_key(line) -> tuple:
    """What identifies a movement without the bank's id: day, amount, reference (or text), party."""
    return (line.date, line.amount, _words(line.reference or line.description), _words(line.counterparty_name))


@dataclass(frozen=True)
class RepeatedLines:
    """Lines of a new statement that were imported already: how many, and the first of them."""

    count: int
    position: int  # of the first repeating line in the new statement
    line: ParsedLine
    earlier_statement: str
    earlier_position: int


@dataclass(frozen=True)
class _Earlier:
    pk: int
    date: dt.date
    amount: Decimal
    reference: str
    description: str
    counterparty_name: str
    transaction_id: str
    position: int
    statement: str


def find_repeated_lines(bank_account: BankAccount, lines: Sequence[ParsedLine]) -> RepeatedLines | None:
    """The lines of `lines` that repeat lines imported already for `bank_account`, or None.

    Where both lines carry the bank's transaction id, a repeat has the same id, day and
    amount (whatever the texts, which differ between exports and formats; the id alone is not
    trusted, some banks number per day or per file). Where either has none, a repeat has the
    same day, amount, reference (else text) and counterparty. Each earlier line answers for
    one new line only, so two equal movements on one day are two. One query: the bank
    account's lines on the days the statement's lines cover (index ledger_stmt_line_date).
    """
    if not lines:
        return None
    rows = (
        BankStatementLine.objects.for_company(bank_account.company_id)
        .filter(statement__bank_account_id=bank_account.pk, date__gte=min(line.date for line in lines),
                date__lte=max(line.date for line in lines))
        .order_by("date", "id")
        .values_list("pk", "date", "amount", "reference", "description", "counterparty_name", "transaction_id",
                     "position", "statement__reference")
    )
    by_id: dict[tuple, list[_Earlier]] = defaultdict(list)
    by_content: dict[tuple, list[_Earlier]] = defaultdict(list)
    for row in rows:
        earlier = _Earlier(*row)
        if _transaction_id(earlier.transaction_id):
            by_id[(_transaction_id(earlier.transaction_id), earlier.date, earlier.amount)].append(earlier)
        by_content[_content_key(earlier)].append(earlier)
    if not by_content:
        return None
    used: set[int] = set()

    def take(candidates: list[_Earlier], *, without_id: bool) -> _Earlier | None:
        for earlier in candidates:
            if earlier.pk not in used and not (without_id and _transaction_id(earlier.transaction_id)):
                used.add(earlier.pk)
                return earlier
        return None

    repeated: dict[int, _Earlier] = {}
    for position, line in enumerate(lines, 1):  # the bank's ids first: they say most
        tid = _transaction_id(line.transaction_id)
        if tid and (earlier := take(by_id.get((tid, line.date, line.amount), []), without_id=False)) is not None:
            repeated[position] = earlier
    for position, line in enumerate(lines, 1):
        if position not in repeated:
            has_id = bool(_transaction_id(line.transaction_id))
            if (earlier := take(by_content.get(_content_key(line), []), without_id=has_id)) is not None:
                repeated[position] = earlier
    if not repeated:
        return None
    first = min(repeated)
    return RepeatedLines(len(repeated), first, lines[first - 1], repeated[first].statement, repeated[first].position)


def _repeated_refusal(repeated: RepeatedLines, total: int, decimals: int, *, label: str = "") -> ValidationFailed:
    line = repeated.line
    text = (line.reference or line.description or line.counterparty_name or line.transaction_id).strip()
    text = f"{text[:57]}..." if len(text) > 60 else text
    shown = (f"{line.date:%Y-%m-%d} {format_amount(line.amount, decimals)} '{text}', statement "
             f"{repeated.earlier_statement} line {repeated.earlier_position}")
    if total == 1:
        found = f"The statement's one line was imported already ({shown})."
    else:
        found = (f"{repeated.count} of these {total} lines {'was' if repeated.count == 1 else 'were'} imported "
                 f"already (first: {shown}).")
    return ValidationFailed(
        f"{label}{found} Import a statement of the new transactions only, or confirm that these are new transactions.",
        code="statement.repeated_lines", field="file",
    )


@dataclass
class _Planned:
    """One statement of the file, the bank account it goes to, and its checked figures."""

    parsed: ParsedStatement
    bank_account: BankAccount
    file_hash: str
    label: str  # "" for a file of one statement, else "Statement <id>: " to prefix messages
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    total: Decimal = ZERO
    unbalanced_difference: Decimal = ZERO


_BLZ_ACCOUNT = re.compile(r"(\d{8})/(\d{1,10})(?:[A-Z]{3})?")
_IBAN_LIKE = re.compile(r"(?:[A-Z0-9]{8,11}/)?[A-Z]{2}\d{2}[A-Z0-9]{11,30}?/?(?:[A-Z]{3})?")


def _compact(identification: str) -> str:
    return "".join((identification or "").split()).upper()


def identifies(identification: str, bank_account: BankAccount) -> bool:
    """Whether a statement's account identification names `bank_account`: its IBAN (as MT940
    :25: writes it, also 'BIC/IBAN' or with the currency after it), or the German bank code
    and account number ('37040044/532013000') its German IBAN is made of."""
    ident, iban = _compact(identification), bank_account.iban
    if not ident or not iban:
        return False
    if ident == iban or re.fullmatch(r"(?:[A-Z0-9]{8,11}/)?" + re.escape(iban) + r"/?(?:[A-Z]{3})?", ident):
        return True  # the IBAN, with the BIC before it or the currency after it
    found = _BLZ_ACCOUNT.fullmatch(ident)
    return bool(found and iban.startswith("DE") and iban[4:12] == found[1] and iban[12:22] == found[2].zfill(10))


def _is_identifying(identification: str) -> bool:
    """An IBAN (possibly with its currency) or a bank code/account: something that names one account."""
    ident = _compact(identification)
    return bool(_IBAN_LIKE.fullmatch(ident) or _BLZ_ACCOUNT.fullmatch(ident))


def _route(bank_account: BankAccount, parsed: list[ParsedStatement]) -> list[BankAccount]:
    """The bank account of each statement of the file.

    A file of one account (every statement names the same account, or none) goes to the bank
    account chosen, and is refused when it names another account. A file of several accounts
    sends each statement to the company's bank account its identification names; statements
    no bank account matches are refused, all named, and nothing is imported.
    """
    company = bank_account.company
    others = BankAccount.objects.for_company(company).exclude(pk=bank_account.pk).order_by("pk")
    named = {_compact(p.account_identification) for p in parsed if _compact(p.account_identification)}
    if len(named) <= 1:
        ident = next(iter(named), "")
        if ident and not identifies(ident, bank_account):
            other = next((a for a in others if identifies(ident, a)), None)
            if other is not None:
                raise ValidationFailed(
                    f"The statement is for account {ident}, the account of bank account {other.name}, not of "
                    f"{bank_account.name}. Import it into {other.name}.", code="statement.wrong_account", field="file")
            if bank_account.iban and _is_identifying(ident):
                raise ValidationFailed(f"The statement is for account {ident}, not {bank_account.iban}.",
                                       code="statement.wrong_account", field="file")
        return [bank_account] * len(parsed)
    accounts = [bank_account, *others]
    targets: list[BankAccount | None] = [
        next((a for a in accounts if identifies(p.account_identification, a)), None) for p in parsed
    ]
    unknown = [p for p, target in zip(parsed, targets, strict=True) if target is None]
    if unknown:
        shown = "; ".join(f"statement {p.statement_id} of account {p.account_identification or '(none given)'}"
                          for p in unknown[:10])
        raise ValidationFailed(
            f"The file holds {len(parsed)} statements of {len(named)} accounts; {len(unknown)} of them "
            f"{'is' if len(unknown) == 1 else 'are'} for no bank account of {company.code}: {shown}"
            f"{' and more' if len(unknown) > 10 else ''}. Add the bank account with that IBAN first, or ask the "
            "bank for a file of those accounts only. Nothing was imported.",
            code="statement.unknown_account", field="file")
    inactive = sorted({target.name for target in targets if not target.is_active})
    if inactive:
        raise ValidationFailed(f"The file has statements of inactive bank accounts: {', '.join(inactive)}. "
                               "Nothing was imported.", code="statement.inactive_account", field="bank_account")
    return targets


def _statement_hash(data: bytes, number: int) -> str:
    """The file's hash for its first statement; further statements of the file get their own
    (a bank account keeps one hash once), so a file imported again is refused at its first."""
    digest = hashlib.sha256(data).hexdigest()
    return digest if number == 1 else hashlib.sha256(f"{digest}#{number}".encode()).hexdigest()


def _unbalanced_refusal(plan: _Planned, opening: Decimal, closing: Decimal, decimals: int, *,
                        denied: str = "") -> ValidationFailed | PermissionDenied:
    currency = plan.bank_account.currency_id
    shown = {name: format_amount(value, decimals) for name, value in
             (("opening", opening), ("total", plan.total), ("sum", opening + plan.total), ("closing", closing),
              ("difference", plan.unbalanced_difference))}
    message = (f"{plan.label}The balances do not add up: opening {shown['opening']} plus the transactions "
               f"{shown['total']} is {shown['sum']}, but the closing balance is {shown['closing']} {currency}: a "
               f"difference of {shown['difference']} {currency}. ")
    if denied:
        return PermissionDenied(f"{message}Importing it flagged as unbalanced needs the permission "
                                f"bank.import_unbalanced, which {denied}.", code="permission.denied")
    return ValidationFailed(f"{message}Ask the bank for the complete statement, or import it flagged as unbalanced "
                            "(needs bank.import_unbalanced).", code="statement.unbalanced", field="file")


def import_statements(
    *, actor, bank_account: BankAccount, file_format: str, data: bytes, file_name: str = "",
    mapping: dict | None = None, opening_balance: Decimal | None = None, accept_balance_gap: bool = False,
    accept_repeated_lines: bool = False, accept_unbalanced: bool = False, check_permission: bool = True,
) -> list[BankStatement]:
    """Read a statement file and store every statement in it with its lines, in the file's
    order; one refusal writes nothing, for any statement of the file.

    A file of several accounts sends each statement to its bank account (`_route`).
    CSV: `mapping` (saved on the bank account for next time; the saved one when omitted);
    the opening balance is `opening_balance`, else the previous statement's closing.
    A statement whose opening balance plus its lines is not its closing balance is refused
    with the difference, unless `accept_unbalanced` and the actor has bank.import_unbalanced:
    then it is imported flagged, the difference kept on it. Lines that repeat lines imported
    already (`find_repeated_lines`) are refused unless `accept_repeated_lines`. The checks
    against earlier statements run with the bank accounts locked, so of two imports of one
    bank account at once the second sees the first.
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
    earlier = (BankStatement.objects.for_company(company).filter(bank_account=bank_account,
                                                                 file_hash=_statement_hash(data, 1)).first())
    if earlier is not None:
        raise ValidationFailed(f"This file was imported already as statement {earlier.reference} "
                               f"on {earlier.imported_at:%Y-%m-%d}.", code="statement.duplicate", field="file")
    try:
        parsed_statements = parse_statements(file_format, data, mapping=mapping)
    except StatementError as exc:
        raise _malformed(f"The {FORMATS[file_format]} file cannot be imported. {exc.message}")
    many = len(parsed_statements) > 1
    targets = _route(bank_account, parsed_statements)
    plans = [_Planned(parsed, target, _statement_hash(data, number), f"Statement {parsed.statement_id}: " if many else "")
             for number, (parsed, target) in enumerate(zip(parsed_statements, targets, strict=True), 1)]
    decimals_by_currency = dict(Currency.objects.filter(code__in={t.currency_id for t in targets}).values_list("code", "decimals"))
    for plan in plans:
        _check_parsed(plan, decimals_by_currency[plan.bank_account.currency_id])
    seen: set[tuple[int, str]] = set()
    for plan in plans:
        key = (plan.bank_account.pk, plan.parsed.statement_id)
        if key in seen:
            raise _malformed(f"The file holds statement {plan.parsed.statement_id} of {plan.bank_account.name} twice.")
        seen.add(key)
    imported: list[BankStatement] = []
    try:
        with transaction.atomic():
            # Serialises imports into these bank accounts (SQLite: its IMMEDIATE write lock), so
            # the checks against earlier statements below see every one committed before.
            list(BankAccount.objects.select_for_update().filter(pk__in={t.pk for t in targets}).order_by("pk"))
            for plan in plans:
                imported.append(_store(plan, actor=actor, file_format=file_format, file_name=file_name,
                                       mapping=mapping, opening_balance=opening_balance,
                                       accept_balance_gap=accept_balance_gap,
                                       accept_repeated_lines=accept_repeated_lines,
                                       accept_unbalanced=accept_unbalanced, check_permission=check_permission,
                                       decimals=decimals_by_currency[plan.bank_account.currency_id]))
    except IntegrityError:
        raise ValidationFailed("This statement was imported already (at the same time).", code="statement.duplicate",
                               field="file")
    return imported


def import_statement(**kwargs) -> BankStatement:
    """`import_statements` for a caller that shows one statement: the file's first (every
    statement of the file is imported)."""
    return import_statements(**kwargs)[0]


def _check_parsed(plan: _Planned, decimals: int) -> None:
    """The checks of one parsed statement that need no earlier statement (before any lock)."""
    parsed, bank_account, label = plan.parsed, plan.bank_account, plan.label
    currency = bank_account.currency_id
    if parsed.currency and parsed.currency.upper() != currency:
        raise _malformed(f"{label}The statement is in {parsed.currency}; the bank account {bank_account.name} is in "
                         f"{currency}.")
    for position, line in enumerate(parsed.lines, 1):
        if line.currency and line.currency.upper() != currency:
            raise _malformed(f"{label}Transaction {position} is in {line.currency}; the statement is in {currency}.")
        _check_amount(line.amount, decimals, f"{label}Transaction {position}")
    plan.total = sum((line.amount for line in parsed.lines), ZERO)
    days = [line.date for line in parsed.lines]
    plan.date_from = parsed.date_from or (min(days) if days else None)
    plan.date_to = parsed.date_to or (max(days) if days else None)
    if plan.date_from is None or plan.date_to is None:
        raise _malformed(f"{label}The statement has no dates: no period and no transactions.")
    if plan.date_to < plan.date_from:
        raise _malformed(f"{label}The statement ends ({plan.date_to}) before it starts ({plan.date_from}).")
    if not parsed.statement_id:
        raise _malformed(f"{label}The statement has no id.")
    if parsed.opening_balance is not None:
        _check_amount(parsed.opening_balance, decimals, f"{label}Opening balance")
        _check_amount(parsed.closing_balance, decimals, f"{label}Closing balance")
        plan.unbalanced_difference = parsed.closing_balance - (parsed.opening_balance + plan.total)


def _store(plan: _Planned, *, actor, file_format: str, file_name: str, mapping, opening_balance, accept_balance_gap: bool,
           accept_repeated_lines: bool, accept_unbalanced: bool, check_permission: bool,
           decimals: int) -> BankStatement:
    """Check one statement against the bank account's earlier ones and store it (locked)."""
    parsed, bank_account, label = plan.parsed, plan.bank_account, plan.label
    company, currency = bank_account.company, bank_account.currency_id
    statements = BankStatement.objects.for_company(company).filter(bank_account=bank_account)
    if statements.filter(file_hash=plan.file_hash).exists():
        raise ValidationFailed(f"{label}This file was imported already.", code="statement.duplicate", field="file")
    if statements.filter(reference=parsed.statement_id).exists():
        raise ValidationFailed(f"Statement {parsed.statement_id} of {bank_account.name} was imported already.",
                               code="statement.duplicate", field="file")
    previous = statements.order_by("-date_to", "-id").first()
    if parsed.opening_balance is None:  # CSV: no balances in the file
        if opening_balance is not None:
            opening = Decimal(opening_balance)
        else:
            opening = previous.closing_balance if previous is not None else ZERO
        closing = opening + plan.total
        _check_amount(opening, decimals, "Opening balance")
        _check_amount(closing, decimals, "Closing balance")
    else:
        opening, closing = parsed.opening_balance, parsed.closing_balance
    if plan.unbalanced_difference:
        if not accept_unbalanced:
            raise _unbalanced_refusal(plan, opening, closing, decimals)
        if check_permission and not has_permission(actor, company, UNBALANCED_PERMISSION):
            raise _unbalanced_refusal(plan, opening, closing, decimals, denied="your role does not have")
    repeated = find_repeated_lines(bank_account, parsed.lines) if previous is not None else None
    if repeated is not None and not accept_repeated_lines:
        raise _repeated_refusal(repeated, len(parsed.lines), decimals, label=label)
    gap = ZERO
    if previous is not None and previous.closing_balance != opening:
        gap = opening - previous.closing_balance
        if not accept_balance_gap:
            raise ValidationFailed(
                f"{label}The opening balance {format_amount(opening, decimals)} does not continue the closing balance "
                f"{format_amount(previous.closing_balance, decimals)} of statement {previous.reference} (to "
                f"{previous.date_to}): difference {format_amount(gap, decimals)} {currency}. Import the "
                "missing statement first, or accept the gap.",
                code="statement.balance_gap", field="opening_balance",
            )
    statement = BankStatement.objects.create(
        company=company, bank_account=bank_account, reference=parsed.statement_id, file_format=file_format,
        file_name=(file_name or "")[:200], file_hash=plan.file_hash, date_from=plan.date_from, date_to=plan.date_to,
        currency_id=currency, opening_balance=opening, closing_balance=closing, balance_gap=gap,
        is_unbalanced=bool(plan.unbalanced_difference), unbalanced_difference=plan.unbalanced_difference,
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
    facts = {"bank_account": bank_account.name, "reference": statement.reference, "format": file_format,
             "lines": len(parsed.lines), "opening_balance": opening, "closing_balance": closing,
             "balance_gap": gap}
    if plan.unbalanced_difference:
        facts["unbalanced_difference"] = plan.unbalanced_difference
    if repeated is not None:
        facts["repeated_lines_accepted"] = repeated.count
    record(company=company, actor=actor, verb=BANK_STATEMENT_IMPORTED.name, subject=statement,
           subject_repr=f"{bank_account.name} {statement.reference}", data=facts)
    return statement


def search_statements(statements: QuerySet[BankStatement], search: str) -> QuerySet[BankStatement]:
    """`statements` whose id or file name contains `search`, or one of whose lines has it in its
    counterparty, reference, text or transaction id (one EXISTS, no rows fetched)."""
    search = (search or "").strip()
    if not search:
        return statements
    lines = BankStatementLine.objects.filter(
        Q(counterparty_name__icontains=search) | Q(reference__icontains=search) | Q(description__icontains=search)
        | Q(transaction_id__icontains=search), company_id=OuterRef("company_id"), statement_id=OuterRef("pk"))
    return statements.filter(Q(reference__icontains=search) | Q(file_name__icontains=search) | Exists(lines))


def get_bank_account(company: Company, bank_account_id) -> BankAccount:
    found = BankAccount.objects.for_company(company).select_related("account", "journal").filter(pk=bank_account_id).first()
    if found is None:
        raise NotFound("No such bank account.", code="record.not_found")
    return found
