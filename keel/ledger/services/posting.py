"""The one posting service: the only code that writes journal lines.

Every department posts through `post_entry` (one entry, interactive), `post_entries_bulk`
(imports, billing and payroll runs) or `reverse_entry`. All three share one validation
(`_Validator`) and one writer (`_write_posted`):

1. validate everything first, raising `PostingRefused` (a ValidationFailed) with a stable
   code and the field (`lines[2].account`) -- nothing is written on a refusal;
2. in one transaction: re-check the periods are still open (FOR SHARE on PostgreSQL, so a
   concurrent close waits for us), take the entry numbers (one counter lock per journal
   and fiscal year), insert the lines and then their entries, already posted, with
   set-based writes (a saved draft keeps its row and is flipped to posted), add the lines
   to the running balances (one upsert per account/period/currency), and record the
   activities with one `record_many`.

Once an entry is posted the database triggers refuse any change to it or its lines.

An entry belongs to its source: one whose source type is registered (keel.ledger.sources) is
reversed only by that source's undo; and a source posts at most one live entry per purpose
(`entry.source_already_posted` otherwise; see docs/design/ledger.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from keel.core.activity import Entry as ActivityEntry
from keel.core.activity import record, record_many
from keel.core.bulk import bulk_work
from keel.core.db_bulk import background_inserts, insert_rows
from keel.core.exceptions import KeelError, ValidationFailed
from keel.core.models import Company, Currency, Party
from keel.core.money import (
    MAX_AMOUNT,
    check_amount,
    currency_decimals,
    parse_amount,
    quantum,
    round_amount,
)
from keel.core.numbering import next_numbers
from keel.core.services.currencies import get_rate
from keel.core.transitions import apply_transition
from keel.ledger import guard
from keel.ledger.choices import PARTY_ROLES, TAX_ACCOUNT_ROLE, EntryStatus, PeriodStatus, TaxRole
from keel.ledger.digest import ONE as DIGEST_ONE
from keel.ledger.digest import entry_digest
from keel.ledger.events import (
    ENTRIES_BULK_POSTED,
    ENTRY_DRAFT_DELETED,
    ENTRY_DRAFTED,
    ENTRY_POSTED,
    ENTRY_REVERSED,
)
from keel.ledger.exceptions import PostingRefused
from keel.ledger.models import (
    LIVE_SOURCE_CONSTRAINT,
    Account,
    BankAccount,
    CostCentre,
    Entry,
    Journal,
    Line,
    Period,
    TaxCode,
    TaxCodeComponent,
)
from keel.ledger.services import balances
from keel.ledger.services._common import require
from keel.ledger.sources import entry_source
from keel.ledger.transitions import ENTRY_TRANSITIONS

ZERO = Decimal(0)
ONE = DIGEST_ONE  # the digest knows this object: its lines need no rate conversion
RATE_QUANTUM = Decimal(1).scaleb(-10)
MAX_RATE = Decimal(10) ** 10  # Decimal(20, 10)
_QUANTA = {decimals: quantum(decimals) for decimals in range(11)}


@dataclass
class LineInput:
    """One line to post. `account` is an Account, its id or its code.

    Give `debit` or `credit` in the company's currency; for a foreign-currency line give
    `currency` and `amount_currency` (signed: positive on the debit side) and optionally
    `rate` (else the core rate of the entry's date) and the company-currency amount (else
    amount_currency x rate, rounded).
    """

    account: Any
    debit: Any = ZERO
    credit: Any = ZERO
    label: str = ""
    currency: str | None = None
    amount_currency: Any = None
    rate: Any = None
    party: Any = None
    tax_code: Any = None
    tax_role: str = ""
    due_date: dt.date | None = None
    cost_centre: Any = None
    source_type: str = ""
    source_id: str = ""


_LINE_FIELDS = {f.name for f in fields(LineInput)}
# A line with none of these set is a plain company-currency line (the validator's fast path).
_optional_fields = attrgetter("currency", "amount_currency", "rate", "party", "tax_code", "cost_centre", "due_date",
                              "tax_role", "source_type", "source_id")
_PLAIN = (None, None, None, None, None, None, None, "", "", "")
_TAX_ROLES = frozenset(TaxRole.values)


@dataclass
class EntryInput:
    """One entry to post: a journal (Journal, id or code), a date and its lines.

    `purpose` (with a source) claims the source's one live entry for that purpose: a second
    one is refused (`entry.source_already_posted`) until the first is reversed.
    """

    journal: Any
    date: dt.date
    lines: Sequence[LineInput | dict]
    reference: str = ""
    description: str = ""
    source_type: str = ""
    source_id: str = ""
    purpose: str = ""


class _Line(NamedTuple):
    """A validated line; its fields are ledger_line's columns between position and date."""

    account_id: int
    label: str
    debit: Decimal
    credit: Decimal
    currency: str
    amount_currency: Decimal
    rate: Decimal
    party_id: int | None
    tax_code_id: int | None
    tax_role: str
    due_date: dt.date | None
    cost_centre_id: int | None
    source_type: str
    source_id: str


@dataclass
class _Entry:
    journal: Journal
    date: dt.date
    period: Period | None
    reference: str
    description: str
    source_type: str
    source_id: str
    lines: list[_Line]
    total: Decimal = ZERO
    reversal_of_id: int | None = None
    draft_id: int | None = None
    purpose: str = ""
    # The tax groups its lines name, with their components as validated (re-checked at writing).
    tax_groups: dict[int, frozenset[int]] | None = None
    # filled by the writer
    id: int | None = None
    number: str = ""
    digest: str = ""


@dataclass
class BulkPostResult:
    """What post_entries_bulk wrote."""

    entries: int = 0
    lines: int = 0
    ids: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)


def _field_text(field_name: str | tuple[int, str] | None) -> str:
    if isinstance(field_name, tuple):
        return f"lines[{field_name[0]}].{field_name[1]}"
    return field_name or "amount"


def _field_label(field_name: str | tuple[int, str] | None) -> str:
    """How a message names the field: "debit of line 3" (people count lines from 1)."""
    if isinstance(field_name, tuple):
        return f"{field_name[1].replace('_', ' ')} of line {field_name[0] + 1}"
    return (field_name or "amount").replace("_", " ")


def _refuse(message: str, code: str, field_name: str | tuple[int, str] | None, index: int | None) -> PostingRefused:
    if isinstance(field_name, tuple):  # (position, name): formatted only when refusing
        field_name = f"lines[{field_name[0]}].{field_name[1]}"
    extra = {"entry": index} if index is not None else None
    return PostingRefused(message, code=code, field=field_name, extra=extra)


class _Validator:
    """Checks entries against the company's chart, periods and rates (cached per call)."""

    def __init__(self, company: Company, *, allow_inactive: bool = False) -> None:
        self.company = company
        # System postings that undo or close history (reversals, year-end closing) may use
        # accounts deactivated since; everything else is refused on them.
        self.allow_inactive = allow_inactive
        self.base = company.base_currency_id
        self.base_decimals = currency_decimals(self.base)
        self.base_quantum = _QUANTA[self.base_decimals]
        self.accounts = {a.pk: a for a in Account.objects.for_company(company)}
        self.accounts_by_code = {a.code: a for a in self.accounts.values()}
        # A bank account's ledger account takes only the bank account's currency: its balance,
        # reconciliation and revaluation read that currency's amounts (base ones included).
        self.bank_currencies = dict(BankAccount.objects.for_company(company).values_list("account_id", "currency_id"))
        self.journals = {j.pk: j for j in Journal.objects.for_company(company)}
        self.journals_by_code = {j.code: j for j in self.journals.values()}
        self.periods = {(p.start.year, p.start.month): p
                        for p in Period.objects.for_company(company).select_related("fiscal_year")}
        self.cost_centres = {c.pk: c for c in CostCentre.objects.for_company(company)}
        self.cost_centres_by_code = {c.code: c for c in self.cost_centres.values()}
        self.tax_codes = {t.pk: t for t in TaxCode.objects.for_company(company)}
        self.tax_codes_by_code = {t.code: t for t in self.tax_codes.values()}
        self.group_components = _group_components(company.pk)
        self.currencies = dict(Currency.objects.filter(is_active=True).values_list("code", "decimals"))
        self.account_keys: dict[tuple, tuple[int, str | None]] = {}
        self.party_company: dict[int, int] = {}
        self.rates: dict[tuple[str, dt.date], Decimal] = {}

    # -- references -------------------------------------------------------------------

    def preload_parties(self, entries: Iterable[EntryInput]) -> None:
        ids = set()
        for entry in entries:
            for line in entry.lines:
                party = line.get("party") if isinstance(line, dict) else line.party
                if party is not None:
                    ids.add(party.pk if isinstance(party, Party) else party)
        ids -= set(self.party_company)
        ids = {i for i in ids if isinstance(i, int)}
        for start in range(0, len(ids), 5000):
            chunk = list(ids)[start:start + 5000]
            self.party_company.update(Party.objects.filter(pk__in=chunk).values_list("pk", "company_id"))

    def _owned(self, value, *, by_id: dict, by_code: dict | None, model, label: str, field_name: str, index):
        """Resolve an instance, id or code to one of the company's records."""
        if isinstance(value, model):
            if value.company_id != self.company.pk:
                raise _refuse(f"That {label} belongs to another company.", f"{label}.other_company", field_name, index)
            return by_id.get(value.pk) or value
        if isinstance(value, int) and not isinstance(value, bool):
            found = by_id.get(value)
            if found is None:
                if model.objects.filter(pk=value).exists():
                    raise _refuse(f"That {label} belongs to another company.", f"{label}.other_company", field_name, index)
                raise _refuse(f"There is no {label} #{value}.", f"{label}.not_found", field_name, index)
            return found
        if by_code is not None and isinstance(value, str):
            found = by_code.get(value.strip())
            if found is None:
                raise _refuse(f"There is no {label} '{value}' in {self.company.code}.", f"{label}.not_found", field_name, index)
            return found
        raise _refuse(f"'{value}' is not a {label}.", f"{label}.not_found", field_name, index)

    def journal(self, value, index) -> Journal:
        journal = self._owned(value, by_id=self.journals, by_code=self.journals_by_code, model=Journal,
                              label="journal", field_name="journal", index=index)
        if not journal.is_active:
            raise _refuse(f"Journal {journal.code} is inactive.", "journal.inactive", "journal", index)
        return journal

    def period(self, day, index, *, for_posting: bool) -> Period | None:
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise _refuse(f"'{day}' is not a date.", "entry.invalid_date", "date", index)
        period = self.periods.get((day.year, day.month))
        if not for_posting:
            return period
        if period is None:
            raise _refuse(
                f"{self.company.code} has no open period for {day.isoformat()}; open its fiscal year first.",
                "period.not_found", "date", index,
            )
        if period.status != PeriodStatus.OPEN:
            raise _refuse(f"Period {period.name} is {period.status}: it takes no postings.", f"period.{period.status}", "date", index)
        return period

    def rate(self, currency: str, day: dt.date, field_name: str, index) -> Decimal:
        key = (currency, day)
        rate = self.rates.get(key)
        if rate is None:
            try:
                rate = get_rate(company=self.company, currency=currency, on_date=day)
            except KeelError as exc:
                raise _refuse(exc.message, "rate.not_found", field_name, index)
            self.rates[key] = rate
        return rate

    def _account(self, value, position: int, index, for_posting: bool) -> tuple[int, str | None]:  # noqa: FBT001 (hot path)
        """(id, currency) of a line's account, checked once per code or id and remembered."""
        kind = type(value)
        key = (value, for_posting) if kind is str or kind is int else None
        known = self.account_keys.get(key) if key is not None else None
        if known is not None:
            return known
        account = self._owned(value, by_id=self.accounts, by_code=self.accounts_by_code, model=Account,
                              label="account", field_name=(position, "account"), index=index)
        if for_posting and not account.is_active and not self.allow_inactive:
            raise _refuse(f"Account {account.code} is inactive.", "account.inactive", (position, "account"), index)
        known = (account.id, account.currency_id or self.bank_currencies.get(account.id))
        # Receivable and payable lines need a party: kept off the fast path, which skips it.
        if key is not None and account.role not in PARTY_ROLES:
            self.account_keys[key] = known
        return known

    def tax_accounts(self, tax_code: TaxCode) -> frozenset[int]:
        """The accounts a plain code's tax posts to: its own, else the chart's accounts with
        the tax role of its kind (a group's taxes are its components' lines: none)."""
        if tax_code.is_group:
            return frozenset()
        if tax_code.account_id:
            return frozenset([tax_code.account_id])
        role = TAX_ACCOUNT_ROLE.get(tax_code.kind)
        return frozenset(a.pk for a in self.accounts.values() if role and a.role == role)

    # -- amounts ----------------------------------------------------------------------

    def amount(self, value, decimals: int, field_name: str, index, *, signed: bool = False,
               limit: Decimal = MAX_AMOUNT) -> Decimal:
        """A debit, credit, foreign amount or rate: text goes through the core parser
        (`keel.core.money.parse_amount`), and every value is bounded by MAX_AMOUNT (what
        SQLite stores exactly; `limit` is lower for rates) and the decimals allowed."""
        if value is ZERO:
            return ZERO
        if type(value) is Decimal:  # first: comparing a Decimal with "" is slow
            amount = value
        elif value is None or value == "":
            return ZERO
        elif type(value) is int:
            amount = Decimal(value)
        else:
            try:
                amount = parse_amount(value, decimals=decimals, field=_field_text(field_name),
                                      label=_field_label(field_name))
            except ValidationFailed as error:
                raise _refuse(error.message, error.code, field_name, index)
        if not amount.is_finite():
            raise _refuse(f"'{value}' is not a finite number.", "money.not_a_number", field_name, index)
        if not signed and amount < 0:
            raise _refuse(f"Debit and credit are never negative; got '{value}'.", "line.negative_amount", field_name, index)
        if not -limit <= amount <= limit:
            if limit is MAX_AMOUNT:
                self.refuse_amount(amount, decimals, field_name, index)
            raise _refuse(f"'{value}' is too large.", "money.too_large", field_name, index)
        # quantize() is cheaper than as_tuple() on this hot path; within MAX_AMOUNT it cannot overflow.
        if amount.quantize(_QUANTA[decimals]) != amount:
            raise _refuse(f"At most {decimals} decimals are allowed here; got '{value}'.", "money.too_many_decimals",
                          field_name, index)
        return amount

    @staticmethod
    def refuse_amount(amount: Decimal, decimals: int, field_name, index) -> None:
        """Raise check_amount's refusal of `amount` (if any) as a PostingRefused naming the line's field."""
        try:
            check_amount(amount, field=_field_text(field_name), label=_field_label(field_name), decimals=decimals)
        except ValidationFailed as error:
            raise _refuse(error.message, error.code, field_name, index)

    # -- lines and entries ------------------------------------------------------------

    def line(self, raw, position: int, day: dt.date, index, for_posting: bool) -> _Line:  # noqa: FBT001 (per line: no keywords)
        if type(raw) is LineInput and _optional_fields(raw) == _PLAIN:
            # The common line (an amount in the company's currency on an account met before,
            # nothing else) is checked here in a few C-level steps; anything this does not
            # accept outright goes through the full checks below, which name the problem.
            account, debit, credit, label = raw.account, raw.debit, raw.credit, raw.label
            kind = type(account)
            known = self.account_keys.get((account, for_posting)) if kind is str or kind is int else None
            if known is not None and (not known[1] or known[1] == self.base) and type(label) is str and len(label) <= 200:
                q = self.base_quantum
                if ((debit is ZERO or (type(debit) is Decimal and debit.is_finite() and ZERO <= debit <= MAX_AMOUNT
                                       and debit.quantize(q) == debit))
                        and (credit is ZERO or (type(credit) is Decimal and credit.is_finite()
                                                and ZERO <= credit <= MAX_AMOUNT and credit.quantize(q) == credit))
                        and (not debit or not credit) and (debit or credit)):
                    return _Line(known[0], label, debit, credit, self.base, debit - credit, ONE, None, None, "", None,
                                 None, "", "")
        if type(raw) is not LineInput and isinstance(raw, dict):
            unknown = set(raw) - _LINE_FIELDS
            if unknown:
                raise _refuse(f"Unknown line fields: {', '.join(sorted(unknown))}.", "line.invalid", f"lines[{position}]", index)
            if "account" not in raw:
                raise _refuse("A line needs an account.", "account.not_found", f"lines[{position}].account", index)
            raw = LineInput(**raw)
        account_id, account_currency = self._account(raw.account, position, index, for_posting)
        base_decimals = self.base_decimals
        debit, credit = raw.debit, raw.credit
        if debit is not ZERO:  # ZERO, the default, needs no checking (most credits, or debits)
            debit = self.amount(debit, base_decimals, (position, "debit"), index)
        if credit is not ZERO:
            credit = self.amount(credit, base_decimals, (position, "credit"), index)
        if debit and credit:
            raise _refuse("A line has a debit or a credit, not both.", "line.debit_and_credit", (position, "debit"), index)
        currency = raw.currency.upper() if raw.currency else self.base
        if currency not in self.currencies:
            raise _refuse(f"'{currency}' is not a known currency.", "currency.unknown", (position, "currency"), index)
        if account_currency and account_currency != currency:
            where = "its bank account is in" if account_id in self.bank_currencies else "it only takes"
            raise _refuse(f"Account {self.accounts[account_id].code} takes no {currency} lines: {where} "
                          f"{account_currency}.", "account.currency_mismatch", (position, "currency"), index)
        if currency == self.base:
            amount_currency, rate = debit - credit, ONE
            if raw.amount_currency not in (None, "") and self.amount(
                raw.amount_currency, base_decimals, (position, "amount_currency"), index, signed=True
            ) != amount_currency:
                raise _refuse("In the company's currency, amount_currency is debit minus credit.",
                              "line.amount_currency_mismatch", (position, "amount_currency"), index)
        else:
            amount_currency = self.amount(raw.amount_currency, self.currencies[currency], (position, "amount_currency"),
                                          index, signed=True)
            # An explicit zero with a base amount is an exchange difference: it changes only
            # the base value of the account's foreign balance (revaluation, settlements).
            exchange_difference = not amount_currency and raw.amount_currency not in (None, "") and bool(debit or credit)
            if not amount_currency and not exchange_difference:
                raise _refuse(f"A {currency} line needs its amount in {currency}.", "line.amount_currency_missing",
                              (position, "amount_currency"), index)
            if exchange_difference:
                rate = ONE
            elif raw.rate in (None, "") and (debit or credit):
                # Both amounts given (a bank's own conversion): the rate is theirs, not the day's.
                rate = (debit or credit) / abs(amount_currency)
                if rate >= MAX_RATE:
                    raise _refuse("The amounts give a rate that is too large: check both amounts.", "rate.invalid",
                                  (position, "rate"), index)
                rate = rate.quantize(RATE_QUANTUM)
                if not rate:
                    raise _refuse("The amounts give a zero rate: check the amount in the company's currency.",
                                  "rate.invalid", (position, "rate"), index)
            elif raw.rate in (None, ""):
                rate = self.rate(currency, day, (position, "rate"), index)
            else:
                rate = self.amount(raw.rate, 10, (position, "rate"), index, limit=MAX_RATE - RATE_QUANTUM)
                if rate <= 0:
                    raise _refuse("A rate is a positive number.", "rate.invalid", (position, "rate"), index)
            if not debit and not credit:
                base_amount = round_amount(abs(amount_currency) * rate, self.base)
                if base_amount > MAX_AMOUNT:  # the converted amount, stored exactly or not at all
                    self.refuse_amount(base_amount, base_decimals, (position, "amount_currency"), index)
                debit, credit = (base_amount, ZERO) if amount_currency > 0 else (ZERO, base_amount)
            elif not exchange_difference and (amount_currency > 0) != (debit > 0):
                raise _refuse("amount_currency is positive on the debit side and negative on the credit side.",
                              "line.amount_currency_sign", (position, "amount_currency"), index)
        if not debit and not credit:
            raise _refuse("A line moves an amount; this one is zero.", "line.zero", (position, "debit"), index)
        party_id = None
        if raw.party is not None:
            party_id = raw.party.pk if isinstance(raw.party, Party) else raw.party
            owner = raw.party.company_id if isinstance(raw.party, Party) else self.party_company.get(party_id)
            if owner is None and isinstance(party_id, int):
                owner = Party.objects.filter(pk=party_id).values_list("company_id", flat=True).first()
                if owner is not None:
                    self.party_company[party_id] = owner
            if owner is None:
                raise _refuse(f"There is no party #{party_id}.", "party.not_found", (position, "party"), index)
            if owner != self.company.pk:
                raise _refuse("That party belongs to another company.", "party.other_company", (position, "party"), index)
        account = self.accounts.get(account_id) if party_id is None else None
        if account is not None and account.role in PARTY_ROLES and for_posting and not self.allow_inactive:
            # Open items are per party (settlement, aging); reversals and the close undo history as it was.
            raise _refuse(f"Line {position + 1} is on {account.get_role_display().lower()} account {account.code}: "
                          "it needs a party.", "line.party_required", (position, "party"), index)
        cost_centre_id = None
        if raw.cost_centre is not None:
            cost_centre = self._owned(raw.cost_centre, by_id=self.cost_centres, by_code=self.cost_centres_by_code,
                                      model=CostCentre, label="cost_centre", field_name=(position, "cost_centre"),
                                      index=index)
            if for_posting and not cost_centre.is_active and not self.allow_inactive:
                raise _refuse(f"Cost centre {cost_centre.code} is inactive.", "cost_centre.inactive",
                              (position, "cost_centre"), index)
            cost_centre_id = cost_centre.pk
        tax_code_id = None
        if raw.tax_code is not None:
            tax_code = self._owned(raw.tax_code, by_id=self.tax_codes, by_code=self.tax_codes_by_code, model=TaxCode,
                                   label="tax_code", field_name=(position, "tax_code"), index=index)
            if for_posting and not tax_code.is_active and not self.allow_inactive:
                raise _refuse(f"Tax code {tax_code.code} is inactive.", "tax_code.inactive", (position, "tax_code"),
                              index)
            tax_code_id = tax_code.pk
        tax_role = raw.tax_role or ""
        if tax_role and tax_role not in _TAX_ROLES:
            raise _refuse(f"'{tax_role}' is not a tax role.", "line.invalid_tax_role", (position, "tax_role"), index)
        if tax_role and tax_code_id is None:
            raise _refuse("A line with a tax role names its tax code.", "line.tax_role_without_code",
                          (position, "tax_code"), index)
        if tax_code_id is not None and not tax_role:
            # A line typed by hand (form, API, import) says only its code: on the code's tax
            # account it is the tax, anywhere else the base it was computed on; the return
            # counts only lines with a role.
            tax_role = TaxRole.TAX if account_id in self.tax_accounts(tax_code) else TaxRole.BASE
        if tax_code_id is not None and tax_role == TaxRole.TAX and tax_code.is_group:
            # The return reads a group's taxes from its components' lines: a tax line on the
            # group itself would be in no box.
            raise _refuse(f"{tax_code.code} is a tax group: post each component's tax with the component's code.",
                          "line.tax_group_on_tax_line", (position, "tax_code"), index)
        if raw.due_date is not None and (not isinstance(raw.due_date, dt.date) or isinstance(raw.due_date, dt.datetime)):
            raise _refuse(f"'{raw.due_date}' is not a date.", "line.invalid_due_date", (position, "due_date"), index)
        label = raw.label or ""
        if len(label) > 200:
            raise _refuse("A line label has at most 200 characters.", "line.label_too_long", (position, "label"), index)
        source_type, source_id = raw.source_type or "", str(raw.source_id) if raw.source_id else ""
        if len(source_type) > 100 or len(source_id) > 64:
            raise _refuse("The source reference is too long.", "line.invalid_source", (position, "source_id"), index)
        return _Line(account_id, label, debit, credit, currency, amount_currency, rate, party_id, tax_code_id,
                     tax_role, raw.due_date, cost_centre_id, source_type, source_id)

    def _absorb_rounding(self, raws: Sequence, lines: list[_Line], difference: Decimal) -> bool:
        """Put the rounding difference of derived foreign lines on the largest of them.

        An entry balances in the company's currency; each line keeps its own currency and
        amount (the per-currency rule belongs to an open item, not to the entry). A foreign
        line whose company-currency amount the validator derived (amount_currency x rate,
        rounded) may leave the entry a few cents off although its exact values balance: two
        10.01 and one 20.02 at 0.333 give 3.33 + 3.33 against 6.67. When the exact values
        balance to within half a unit of the company currency's last decimal, the difference
        goes onto the derived line with the largest company-currency amount (the first of
        equals), whose foreign amount and rate stay as given; the entry posts balanced with
        the lines it was given. Anything else stays unbalanced and is refused. Returns
        whether a line changed (`lines` is changed in place).
        """
        exact, derived = ZERO, []
        for position, (raw, line) in enumerate(zip(raws, lines, strict=True)):
            if line.currency != self.base and line.amount_currency and _no_base_amount(raw):
                exact += line.amount_currency * line.rate
                derived.append(position)
            else:
                exact += line.debit - line.credit
        if not derived or round_amount(exact, self.base):
            return False
        position = max(derived, key=lambda p: (lines[p].debit + lines[p].credit, -p))
        line = lines[position]
        if line.debit:
            adjusted = line._replace(debit=line.debit - difference)
        else:
            adjusted = line._replace(credit=line.credit + difference)
        if adjusted.debit < 0 or adjusted.credit < 0 or not (adjusted.debit or adjusted.credit):
            return False
        lines[position] = adjusted
        return True

    def entry(self, raw: EntryInput, index=None, *, for_posting: bool = True) -> _Entry:
        journal = self.journal(raw.journal, index)
        period = self.period(raw.date, index, for_posting=for_posting)
        if len(raw.reference or "") > 100:
            raise _refuse("A reference has at most 100 characters.", "entry.reference_too_long", "reference", index)
        if len(raw.description or "") > 500:
            raise _refuse("A description has at most 500 characters.", "entry.description_too_long", "description", index)
        if len(raw.source_type or "") > 100 or len(str(raw.source_id or "")) > 64:
            raise _refuse("The source reference is too long.", "entry.invalid_source", "source_id", index)
        purpose = raw.purpose or ""
        if purpose and (len(purpose) > 50 or not raw.source_type):
            raise _refuse("A purpose is at most 50 characters and belongs to an entry with a source.",
                          "entry.invalid_purpose", "purpose", index)
        day, check = raw.date, self.line
        lines = [check(line, position, day, index, for_posting) for position, line in enumerate(raw.lines)]
        total_debit = total_credit = ZERO
        for line in lines:
            total_debit += line.debit
            total_credit += line.credit
        if total_debit != total_credit and self._absorb_rounding(raw.lines, lines, total_debit - total_credit):
            total_debit = sum((line.debit for line in lines), ZERO)
            total_credit = sum((line.credit for line in lines), ZERO)
        if for_posting:
            if len(lines) < 2:
                raise _refuse("An entry has at least two lines.", "entry.too_few_lines", "lines", index)
            if total_debit != total_credit:
                raise _refuse(
                    f"The entry does not balance: debit {total_debit}, credit {total_credit} "
                    f"(difference {total_debit - total_credit} {self.base}).",
                    "entry.unbalanced", "lines", index,
                )
        entry = _Entry(journal, raw.date, period, raw.reference or "", raw.description or "", raw.source_type or "",
                       str(raw.source_id or ""), lines, total_debit, purpose=purpose)
        if self.group_components:
            groups = self.group_components
            named = {line.tax_code_id for line in lines if line.tax_code_id in groups}
            if named:
                entry.tax_groups = {group: groups[group] for group in named}
        return entry


def _no_base_amount(raw) -> bool:
    """Whether a (validated) line input left its company-currency amount to the validator."""
    for name in ("debit", "credit"):
        value = raw.get(name) if isinstance(raw, dict) else getattr(raw, name)
        if value is None or value == "" or value is ZERO:
            continue
        if Decimal(repr(value) if isinstance(value, float) else str(value).strip()):
            return False
    return True


def _group_components(company_id: int, group_ids: Iterable[int] | None = None) -> dict[int, frozenset[int]]:
    """{tax group id: its component ids} of a company (or of some of its groups)."""
    links = TaxCodeComponent.objects.filter(company_id=company_id)
    if group_ids is not None:
        links = links.filter(group_id__in=group_ids)
    found: dict[int, set[int]] = defaultdict(set)
    for group_id, component_id in links.values_list("group_id", "component_id"):
        found[group_id].add(component_id)
    return {group_id: frozenset(ids) for group_id, ids in found.items()}


# -- writing ------------------------------------------------------------------------------

_ENTRY_COLUMNS = (
    "id", "company_id", "journal_id", "date", "period_id", "number", "reference", "description", "status",
    "reversal_of_id", "source_type", "source_id", "created_by_id", "created_at", "posted_at", "posted_by_id",
    "purpose", "digest", "line_count",
)
_LINE_COLUMNS = (
    "company_id", "entry_id", "position", "account_id", "label", "debit", "credit", "currency_id",
    "amount_currency", "rate", "party_id", "tax_code_id", "tax_role", "due_date", "cost_centre_id",
    "source_type", "source_id", "date", "period_id",
)


# Entries whose lines make one insert call on SQLite (about 2,000 lines): small enough that
# preparing the next chunk overlaps the writing of this one.
_ENTRIES_PER_INSERT = 500


def _allocate_entry_ids(count: int) -> list[int]:
    """Ids for new entries, taken before inserting so lines can refer to them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence('ledger_entry', 'id')")
            sequence = cursor.fetchone()[0]  # looked up once: per row it costs 5x the nextval
            cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the IMMEDIATE transaction holds the write lock, so nobody else takes ids now.
        cursor.execute(
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entry'), 0),"
            " COALESCE((SELECT MAX(id) FROM ledger_entry), 0))"
        )
        first = cursor.fetchone()[0] + 1
        return list(range(first, first + count))


def _lock_open_periods(company: Company, period_ids: set[int]) -> None:
    """Re-read the periods inside the transaction (FOR SHARE: a concurrent close waits)."""
    ids = sorted(period_ids)
    suffix = " FOR SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(ids))
        cursor.execute(f"SELECT id, status, start FROM ledger_period WHERE id IN ({placeholders}){suffix}", ids)
        for _id, status, start in cursor.fetchall():
            if status != PeriodStatus.OPEN:
                start = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
                raise PostingRefused(f"Period {start:%Y-%m} is {status}: it takes no postings.",
                                     code=f"period.{status}", field="date")


def _lock_tax_groups(company: Company, entries: list[_Entry]) -> None:
    """Hold the tax groups the lines name (FOR SHARE on PostgreSQL: a change of components
    waits for this posting, then finds the group in use) and refuse the posting when their
    components changed since validation: its tax lines were computed for the old ones."""
    validated: dict[int, frozenset[int]] = {}
    for entry in entries:
        if entry.tax_groups:
            validated.update(entry.tax_groups)
    if not validated:
        return
    ids = sorted(validated)
    if connection.vendor == "postgresql":  # SQLite: the IMMEDIATE transaction already excludes writers
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {TaxCode._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))})"
                           " FOR SHARE", ids)
    current = _group_components(company.pk, ids)
    for group_id in ids:
        if current.get(group_id, frozenset()) != validated[group_id]:
            code = TaxCode.objects.filter(pk=group_id).values_list("code", flat=True).first()
            raise PostingRefused(f"The components of tax group {code} changed while this was being posted: "
                                 f"compute the taxes again.", code="tax_code.group_changed", field="lines")


def _id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for value in sorted(ids):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], value)
        else:
            ranges.append((value, value))
    return ranges


def _mark_posted(ids: list[int]) -> None:
    with connection.cursor() as cursor:
        for low, high in _id_ranges(ids):
            cursor.execute("UPDATE ledger_entry SET status = %s WHERE id BETWEEN %s AND %s AND status = %s",
                           [EntryStatus.POSTED, low, high, EntryStatus.DRAFT])


def _source_key(entry: _Entry) -> tuple[str, str, str]:
    return (entry.source_type, entry.source_id, entry.purpose)


def _already_posted(company: Company, key: tuple[str, str, str], existing: Entry | None, index=None) -> PostingRefused:
    source_type, source_id, purpose = key
    number = existing.number if existing is not None else "posted meanwhile"
    return PostingRefused(
        f"{source_type} {source_id} has posted its '{purpose}' entry already ({number}); "
        "a source posts one live entry per purpose: undo that one first.",
        code="entry.source_already_posted", field="source_id",
        extra={"existing_entry_id": existing.pk if existing is not None else None, "existing_number": number,
               **({"entry": index} if index is not None else {})},
    )


def live_entry_for(*, company: Company, source_type: str, source_id: str, purpose: str) -> Entry | None:
    """The source's live entry for a purpose (posted, not reversed, not a reversal), if any."""
    return Entry.objects.for_company(company).filter(
        source_type=source_type, source_id=str(source_id), purpose=purpose, status=EntryStatus.POSTED,
        reversal_of__isnull=True,
    ).first()


def _check_live_sources(company: Company, entries: list[_Entry]) -> None:
    """Refuse an entry whose source has a live entry for its purpose already (or twice in
    this batch). Runs inside the writing transaction; two writers that both pass it meet at
    the unique index (PostgreSQL: the second waits for the first, then fails), which
    _write_posted turns into the same refusal."""
    claims = [e for e in entries if e.purpose and e.reversal_of_id is None]
    if not claims:
        return
    seen: set[tuple[str, str, str]] = set()
    for entry in claims:
        key = _source_key(entry)
        if key in seen:
            raise _already_posted(company, key, None)
        seen.add(key)
    found = Entry.objects.for_company(company).filter(
        status=EntryStatus.POSTED, reversal_of__isnull=True, purpose__in={k[2] for k in seen},
        source_type__in={k[0] for k in seen}, source_id__in={k[1] for k in seen},
    ).only("pk", "number", "source_type", "source_id", "purpose")
    for existing in found:
        key = (existing.source_type, existing.source_id, existing.purpose)
        if key in seen:
            raise _already_posted(company, key, existing)


def _write_posted(*, company: Company, actor, entries: list[_Entry], record_each: bool = True) -> None:
    """Number, insert, post and balance validated entries; record one activity each
    (or, with record_each=False, one `ledger.entries_bulk_posted` for the batch).

    A concurrent writer that posted the same source and purpose first makes the database
    refuse ours (the live-source unique index): that becomes `entry.source_already_posted`,
    as the check before writing gives, and nothing of ours is left."""
    try:
        _write_batch(company=company, actor=actor, entries=entries, record_each=record_each)
    except IntegrityError as exc:
        text = str(exc)
        if LIVE_SOURCE_CONSTRAINT not in text and "ledger_entry.purpose" not in text:
            raise
        for entry in entries:
            if entry.purpose and entry.reversal_of_id is None:
                key = _source_key(entry)
                existing = live_entry_for(company=company, source_type=key[0], source_id=key[1], purpose=key[2])
                if existing is not None:
                    raise _already_posted(company, key, existing) from exc
        raise _already_posted(company, _source_key(next(e for e in entries if e.purpose)), None) from exc


def _write_batch(*, company: Company, actor, entries: list[_Entry], record_each: bool) -> None:
    now = timezone.now()
    actor_id = getattr(actor, "pk", None)
    sqlite = connection.vendor == "sqlite"
    with transaction.atomic():
        _lock_open_periods(company, {e.period.id for e in entries})
        _lock_tax_groups(company, entries)
        _check_live_sources(company, entries)
        # Numbers: per journal sequence and fiscal year, in date order, one lock per group.
        # The year is the fiscal-year row the entry's period belongs to, not a computation
        # from the company's start month (the rows are what the books were opened with).
        groups: dict[tuple[str, int], list[_Entry]] = defaultdict(list)
        for entry in entries:
            groups[(entry.journal.sequence_code, entry.period.fiscal_year.year)].append(entry)
        for (sequence_code, year), members in sorted(groups.items()):
            members.sort(key=lambda e: e.date)
            numbers = next_numbers(company=company, sequence_code=sequence_code, on_date=members[0].date,
                                   count=len(members), fiscal_year=year)
            for entry, number in zip(members, numbers, strict=True):
                entry.number = number
        new = [e for e in entries if e.draft_id is None]
        for entry, entry_id in zip(new, _allocate_entry_ids(len(new)) if new else [], strict=True):
            entry.id = entry_id
        # The digest `keel ledger verify` checks: of the content as numbered and validated.
        for entry in entries:
            entry.digest = entry_digest(
                (entry.journal.id, entry.date, entry.number, entry.reference, entry.description, entry.source_type,
                 entry.source_id, entry.reversal_of_id), entry.lines)
        # Decimals and dates go as they are: psycopg sends them typed, and on SQLite the
        # adapters Django registers turn them into text (the datetime is adapted here once).
        when = connection.ops.adapt_datetimefield_value(now) if sqlite else now
        company_id = company.pk
        posted = EntryStatus.POSTED.value
        entry_rows, drafts = [], []
        for entry in entries:
            if entry.draft_id is not None:
                entry.id = entry.draft_id
                drafts.append(entry)
            else:
                entry_rows.append((
                    entry.id, company_id, entry.journal.id, entry.date.isoformat() if sqlite else entry.date,
                    entry.period.id, entry.number, entry.reference, entry.description, posted, entry.reversal_of_id,
                    entry.source_type, entry.source_id, actor_id, when, when, actor_id, entry.purpose, entry.digest,
                    len(entry.lines),
                ))
        for entry in drafts:  # a draft keeps its id; its lines are rewritten as validated
            Entry.objects.filter(pk=entry.id, status=EntryStatus.DRAFT).update(
                journal=entry.journal, date=entry.date, period=entry.period, number=entry.number,
                reference=entry.reference, description=entry.description, posted_at=now, posted_by_id=actor_id,
                digest=entry.digest, line_count=len(entry.lines),
            )
            Line.objects.filter(entry_id=entry.id).delete()

        def line_rows(chunk: list[_Entry]) -> list[tuple]:
            rows: list[tuple] = []
            for entry in chunk:
                entry_id, tail = entry.id, (entry.date.isoformat() if sqlite else entry.date, entry.period.id)
                # A _Line's fields are the columns between position and date, in order.
                rows.extend([(company_id, entry_id, position, *line, *tail) for position, line in enumerate(entry.lines)])
            return rows

        # New entries are inserted already posted (no UPDATE, and its row triggers, per
        # entry), before their lines: PostgreSQL checks the lines' foreign keys when their
        # statement ends, and its insert guard takes lines of a posted entry that has none
        # yet. SQLite's row guard refuses any line of a posted entry, so a small SQLite
        # batch inserts its lines first (their foreign keys are checked at commit); a large
        # one drops the guard and goes entries first as well, which spares SQLite looking
        # up children to clear pending foreign-key violations. SQLite writes each chunk of
        # lines while the next is prepared; PostgreSQL takes them in one COPY.
        chunk = _ENTRIES_PER_INSERT if sqlite else len(entries)
        with guard.bulk_line_insert(connection, sum(len(e.lines) for e in entries)) as unguarded, \
                background_inserts() as insert:
            entries_first = unguarded or not sqlite
            if entries_first:
                insert("ledger_entry", _ENTRY_COLUMNS, entry_rows)
            for start in range(0, len(entries), chunk):
                insert("ledger_line", _LINE_COLUMNS, line_rows(entries[start:start + chunk]))
            movements = balances.aggregate(  # added up while the last lines are written
                (line.account_id, entry.period.id, line.currency, line.debit, line.credit, line.amount_currency,
                 entry.date)
                for entry in entries for line in entry.lines
            )
        if not entries_first:
            insert_rows("ledger_entry", _ENTRY_COLUMNS, entry_rows)
        _mark_posted([e.id for e in drafts])
        balances.apply(company.pk, movements)
        if not record_each:
            numbers = sorted(e.number for e in entries)
            record(company=company, actor=actor, verb=ENTRIES_BULK_POSTED.name, subject_type="ledger.entry",
                   subject_id=str(min(e.id for e in entries)), subject_repr=f"{len(entries)} entries",
                   data={"entries": len(entries), "lines": sum(len(e.lines) for e in entries),
                         "amount": sum((e.total for e in entries), ZERO),
                         "id_ranges": [list(r) for r in _id_ranges([e.id for e in entries])][:1000],
                         "journals": sorted({e.journal.code for e in entries}),
                         "first_number": numbers[0], "last_number": numbers[-1]},
                   occurred_at=now)
            return
        record_many(company=company, actor=actor, entries=[
            ActivityEntry(
                ENTRY_POSTED.name, subject_type="ledger.entry", subject_id=str(entry.id), subject_repr=entry.number,
                data={"journal": entry.journal.code, "number": entry.number, "date": entry.date,
                      "amount": entry.total, "lines": len(entry.lines), "reversal_of": entry.reversal_of_id,
                      "source": f"{entry.source_type}:{entry.source_id}" if entry.source_type else ""},
                occurred_at=now,
            )
            for entry in entries
        ])


# -- the verbs ----------------------------------------------------------------------------


def post_entry(
    *, actor, company: Company, journal, date: dt.date, lines: Sequence[LineInput | dict], reference: str = "",
    description: str = "", source_type: str = "", source_id: str = "", purpose: str = "",
    check_permission: bool = True, allow_inactive_accounts: bool = False,
) -> Entry:
    """Validate and post one entry; returns it posted and numbered. Refusals write nothing.

    Departments posting as the system (handlers, runs) pass check_permission=False; the
    year-end closing passes allow_inactive_accounts=True (it closes accounts deactivated
    during the year). A `purpose` claims the source's one live entry for it: a repeated
    call is refused (`entry.source_already_posted`, naming the entry posted already).
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    validator = _Validator(company, allow_inactive=allow_inactive_accounts)
    normalized = validator.entry(EntryInput(journal, date, lines, reference, description, source_type, source_id,
                                            purpose))
    _write_posted(company=company, actor=actor, entries=[normalized])
    return Entry.objects.select_related("journal", "period").get(pk=normalized.id)


def check_entries(*, company: Company, entries: Sequence[EntryInput]) -> list[tuple[int, KeelError]]:
    """Validate entries exactly as posting would, writing nothing; every refusal with the
    index of its entry (an import reports them all instead of stopping at the first)."""
    validator = _Validator(company)
    validator.preload_parties(entries)
    refusals: list[tuple[int, KeelError]] = []
    with bulk_work():
        for index, entry in enumerate(entries):
            try:
                validator.entry(entry, index)
            except KeelError as exc:
                refusals.append((index, exc))
    return refusals


# -- already-validated rows (the journal import) ---------------------------------------------

# A line as the writer takes it, for callers that build it themselves after the same checks.
ValidatedLine = _Line
ValidatedEntry = _Entry


class PrevalidatedValidator(_Validator):
    """The posting validator for a caller that checked its lines already (the journal import
    builds the common plain line itself, with the fast path's own checks): a `ValidatedLine`
    is taken as it is, anything else gets the full line checks; the entry's checks (journal,
    period open, balance, currencies) run as for every posting. So each line is validated
    once, and the writer takes the result as it is."""

    def line(self, raw, position: int, day: dt.date, index, for_posting: bool) -> _Line:  # noqa: FBT001 (as the base)
        if type(raw) is _Line:
            return raw
        return super().line(raw, position, day, index, for_posting)


def post_validated_entries(*, actor, company: Company, entries: list[_Entry]) -> BulkPostResult:
    """Write entries that `PrevalidatedValidator(company).entry(...)` returned, as one batch in
    date order (numbers follow dates within it), with one `ledger.entries_bulk_posted`
    activity. The caller checked the permission and runs this inside its own transaction
    (an import calls it once per batch, all in one transaction); the periods are re-checked
    under lock as for every posting."""
    ordered = sorted(entries, key=attrgetter("date"))
    result = BulkPostResult()
    if not ordered:
        return result
    with bulk_work():
        _write_posted(company=company, actor=actor, entries=ordered, record_each=False)
    result.entries = len(ordered)
    result.lines = sum(len(e.lines) for e in ordered)
    result.ids = [e.id for e in ordered]
    result.numbers = [e.number for e in ordered]
    return result


def post_entries_bulk(
    *, actor, company: Company, entries: Sequence[EntryInput], batch_size: int = 20000,
    record_each: bool = False, check_permission: bool = True,
) -> BulkPostResult:
    """Post many entries: validate all of them first, then write in batches.

    Activities: one `ledger.entries_bulk_posted` per batch (its data names the entry id
    ranges and first/last numbers); record_each=True records one `ledger.entry_posted` per
    entry instead, for callers whose subscribers need each entry (about 3x slower).

    Each batch of about `batch_size` lines is one transaction. A caller that needs all or
    nothing (an import) wraps the call in `transaction.atomic()`. A refusal names the
    entry's index in the error's `entry` field.
    """
    require(actor, company, "ledger.post", check_permission=check_permission)
    with bulk_work():
        return _post_bulk(actor, company, entries, batch_size=batch_size, record_each=record_each)


def _post_bulk(actor, company: Company, entries: Sequence[EntryInput], *, batch_size: int,
               record_each: bool) -> BulkPostResult:
    validator = _Validator(company)
    validator.preload_parties(entries)
    normalized = [validator.entry(entry, index) for index, entry in enumerate(entries)]
    result = BulkPostResult()
    batch: list[_Entry] = []
    size = 0
    # Written in date order, so numbers follow dates across batches as well as within one.
    for entry in sorted(normalized, key=lambda e: e.date):
        batch.append(entry)
        size += len(entry.lines)
        if size >= batch_size:
            _write_posted(company=company, actor=actor, entries=batch, record_each=record_each)
            batch, size = [], 0
    if batch:
        _write_posted(company=company, actor=actor, entries=batch, record_each=record_each)
    result.entries = len(normalized)
    result.lines = sum(len(e.lines) for e in normalized)
    result.ids = [e.id for e in normalized]
    result.numbers = [e.number for e in normalized]
    return result


def _draft_lines_rows(company: Company, entry_id: int, day: dt.date, lines: list[_Line]) -> list[Line]:
    """A draft's lines, with no period: only posted lines have one, so reports select
    "posted lines of a period" without joining the entries."""
    return [
        Line(company=company, entry_id=entry_id, position=position, account_id=line.account_id, label=line.label,
             debit=line.debit, credit=line.credit, currency_id=line.currency, amount_currency=line.amount_currency,
             rate=line.rate, party_id=line.party_id, tax_code_id=line.tax_code_id, tax_role=line.tax_role,
             due_date=line.due_date, cost_centre_id=line.cost_centre_id, source_type=line.source_type,
             source_id=line.source_id, date=day, period=None)
        for position, line in enumerate(lines)
    ]


def create_draft_entry(
    *, actor, company: Company, journal, date: dt.date, lines: Sequence[LineInput | dict], reference: str = "",
    description: str = "", source_type: str = "", source_id: str = "", check_permission: bool = True,
) -> Entry:
    """Save an entry to finish later: lines are checked, balance and period only at posting."""
    require(actor, company, "ledger.post", check_permission=check_permission)
    validator = _Validator(company)
    normalized = validator.entry(EntryInput(journal, date, lines, reference, description, source_type, source_id),
                                 for_posting=False)
    with transaction.atomic():
        entry = Entry.objects.create(
            company=company, journal=normalized.journal, date=date, period=normalized.period, reference=normalized.reference,
            description=normalized.description, source_type=normalized.source_type, source_id=normalized.source_id,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        Line.objects.bulk_create(_draft_lines_rows(company, entry.pk, date, normalized.lines))
        record(company=company, actor=actor, verb=ENTRY_DRAFTED.name, subject=entry,
               data={"action": "created", "journal": normalized.journal.code, "date": date, "lines": len(normalized.lines)})
    return entry


def _locked_draft(entry: Entry) -> Entry:
    locked = Entry.objects.select_for_update().select_related("company").filter(pk=entry.pk).first()
    if locked is None or locked.status != EntryStatus.DRAFT:
        raise PostingRefused("Only draft entries can be changed or posted; this one is not a draft.",
                             code="entry.not_draft", field="status")
    return locked


def update_draft_entry(
    *, actor, entry: Entry, journal=None, date: dt.date | None = None, lines: Sequence[LineInput | dict] | None = None,
    reference: str | None = None, description: str | None = None, check_permission: bool = True,
) -> Entry:
    """Change a draft: any of journal, date, lines (replaced as a whole), reference, description."""
    require(actor, entry.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = _locked_draft(entry)
        company = locked.company
        current_lines = lines
        new_date = date or locked.date
        if current_lines is None:
            saved = list(Line.objects.filter(entry=locked).order_by("position", "id"))
            current_lines = _follow_day_rates(company, saved, locked.date, new_date)
        normalized = _Validator(company).entry(
            EntryInput(journal if journal is not None else locked.journal_id, new_date, current_lines,
                       locked.reference if reference is None else reference,
                       locked.description if description is None else description,
                       locked.source_type, locked.source_id),
            for_posting=False,
        )
        Entry.objects.filter(pk=locked.pk).update(
            journal=normalized.journal, date=new_date, period=normalized.period, reference=normalized.reference,
            description=normalized.description,
        )
        Line.objects.filter(entry=locked).delete()
        Line.objects.bulk_create(_draft_lines_rows(company, locked.pk, new_date, normalized.lines))
        record(company=company, actor=actor, verb=ENTRY_DRAFTED.name, subject=locked,
               data={"action": "updated", "journal": normalized.journal.code, "date": new_date,
                     "lines": len(normalized.lines)})
    return Entry.objects.get(pk=locked.pk)


def delete_draft_entry(*, actor, entry: Entry, check_permission: bool = True) -> None:
    """Delete a draft (posted entries are never deleted: reverse them)."""
    require(actor, entry.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = _locked_draft(entry)
        record(company=locked.company, actor=actor, verb=ENTRY_DRAFT_DELETED.name, subject=locked,
               data={"journal_id": locked.journal_id, "date": locked.date})
        Line.objects.filter(entry=locked).delete()
        locked.delete()


def _follow_day_rates(company: Company, saved: list[Line], old_date: dt.date, new_date: dt.date) -> list[LineInput]:
    """A draft's lines for its new date: a foreign line whose rate is the core rate of the old
    date took it from the rate table, so it takes the new date's (its base is derived again);
    a rate of its own stays, as a form does when the date changes."""
    lines = [_line_input(line) for line in saved]
    if new_date == old_date:
        return lines
    day_rates: dict[str, Decimal | None] = {}
    for line in lines:
        if line.currency == company.base_currency_id or not line.amount_currency:
            continue
        if line.currency not in day_rates:
            try:
                day_rates[line.currency] = get_rate(company=company, currency=line.currency, on_date=old_date)
            except KeelError:
                day_rates[line.currency] = None
        if day_rates[line.currency] == line.rate:
            line.rate, line.debit, line.credit = None, ZERO, ZERO
    return lines


def _line_input(line: Line, *, mirror: bool = False) -> LineInput:
    sign = -1 if mirror else 1
    return LineInput(
        account=line.account_id, debit=line.credit if mirror else line.debit, credit=line.debit if mirror else line.credit,
        label=line.label, currency=line.currency_id, amount_currency=line.amount_currency * sign, rate=line.rate,
        party=line.party_id, tax_code=line.tax_code_id, tax_role=line.tax_role, due_date=line.due_date,
        cost_centre=line.cost_centre_id, source_type=line.source_type, source_id=line.source_id,
    )


def post_draft_entry(*, actor, entry: Entry, check_permission: bool = True) -> Entry:
    """Post a draft: full validation as for post_entry; it keeps its id and gets its number."""
    require(actor, entry.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        locked = _locked_draft(entry)
        company = locked.company
        lines = [_line_input(line) for line in Line.objects.filter(entry=locked).order_by("position", "id")]
        normalized = _Validator(company).entry(
            EntryInput(locked.journal_id, locked.date, lines, locked.reference, locked.description,
                       locked.source_type, locked.source_id)
        )
        normalized.draft_id = locked.pk
        _write_posted(company=company, actor=actor, entries=[normalized])
    return Entry.objects.select_related("journal", "period").get(pk=locked.pk)


def reversal_refusal(entry: Entry) -> PostingRefused | None:
    """Why a plain reversal of this entry is refused (its source owns it), or None."""
    source = entry_source(entry.source_type)
    if source is None:
        return None
    reverses = ""
    if entry.reversal_of_id:
        reverses = Entry.objects.filter(pk=entry.reversal_of_id).values_list("number", flat=True).first() or ""
    return PostingRefused(
        source.refusal_message(entry.number, entry.source_id, reverses=reverses), code="entry.owned_by_source",
        field="entry",
        extra={"source_type": entry.source_type, "source_id": entry.source_id, "undo": source.undo,
               "undo_service": source.undo_service, "undo_url": source.page_url(entry.source_id)},
    )


def reverse_entry(
    *, actor, entry: Entry, date: dt.date, description: str = "", undo_of_source: str = "",
    check_permission: bool = True,
) -> Entry:
    """Post the mirror of a posted entry on `date`, linked to it, and mark it reversed.

    The reversal may use accounts deactivated since (it undoes history); its date must be
    in an open period. An entry whose source type is registered (keel.ledger.sources) is
    reversed only by its source's undo, which passes `undo_of_source=<that source type>`;
    a plain reversal is refused with a message naming the undo (`entry.owned_by_source`).
    """
    require(actor, entry.company_id, "ledger.post", check_permission=check_permission)
    with transaction.atomic():
        original = Entry.objects.select_for_update().select_related("company", "journal").filter(pk=entry.pk).first()
        if original is None or original.status != EntryStatus.POSTED:
            status = original.status if original is not None else "missing"
            raise PostingRefused(f"Only posted entries can be reversed; this one is {status}.",
                                 code="entry.not_reversible", field="status")
        if undo_of_source != original.source_type or not undo_of_source:
            refusal = reversal_refusal(original)
            if refusal is not None:
                raise refusal
        company = original.company
        validator = _Validator(company, allow_inactive=True)  # the reversal undoes history
        lines = [_line_input(line, mirror=True) for line in Line.objects.filter(entry=original).order_by("position", "id")]
        normalized = validator.entry(EntryInput(
            original.journal_id, date, lines, original.reference,
            description or f"Reversal of {original.number}"[:500], original.source_type, original.source_id,
            original.purpose,
        ))
        normalized.reversal_of_id = original.pk
        _write_posted(company=company, actor=actor, entries=[normalized])
        apply_transition(original, transitions=ENTRY_TRANSITIONS, to=EntryStatus.REVERSED, code="entry.illegal_transition")
        record(company=company, actor=actor, verb=ENTRY_REVERSED.name, subject=original,
               subject_repr=original.number,
               data={"number": original.number, "reversal_id": normalized.id, "reversal_number": normalized.number,
                     "date": date})
    return Entry.objects.select_related("journal", "period").get(pk=normalized.id)
