"""Budgets: create, edit lines (monthly amounts, or an annual amount spread over the months),
import from CSV, approve, reopen, delete.

A draft budget can be changed; an approved one is frozen until it is returned to draft
(`budget.approve`). Every change records an activity in its transaction; bad input writes
nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from keel.core.activity import record
from keel.core.exceptions import Conflict, ValidationFailed
from keel.core.models import Company
from keel.core.money import currency_decimals, parse_amount, quantum
from keel.core.records import parse_id
from keel.core.spreadsheet import csv_writer
from keel.core.transitions import apply_transition
from keel.ledger.events import BUDGET_APPROVED, BUDGET_CHANGED, BUDGET_IMPORTED, BUDGET_REOPENED
from keel.ledger.models import Account, CostCentre, FiscalYear, Period
from keel.ledger.models.budgets import Budget, BudgetLine, BudgetStatus
from keel.ledger.services._common import require

BUDGET_TRANSITIONS = frozenset({(BudgetStatus.DRAFT, BudgetStatus.APPROVED), (BudgetStatus.APPROVED, BudgetStatus.DRAFT)})
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 2 * 1024 * 1024


def spread_annual(amount: Decimal, *, months: int = 12, decimals: int = 2) -> list[Decimal]:
    """An annual amount in `months` equal parts rounded to `decimals`; the last month takes the rounding.

    spread_annual(Decimal("1000")) -> eleven times 83.33 and 83.37: the parts add up exactly.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    step = quantum(decimals)
    part = (amount / months).quantize(step)
    return [part] * (months - 1) + [amount - part * (months - 1)]


def _amount(value, field: str, decimals: int) -> Decimal:
    """A budget amount by the core parser (blank is zero): within MAX_AMOUNT and `decimals`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return quantum(decimals) * 0
    return parse_amount(value, decimals=decimals, field=field).quantize(quantum(decimals))


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed("A budget name has 1 to 100 characters.", code="budget.invalid", field="name")
    return name


def _fiscal_year(company: Company, fiscal_year) -> FiscalYear:
    if isinstance(fiscal_year, FiscalYear):
        if fiscal_year.company_id == company.pk:
            return fiscal_year
        fiscal_year = None
    found = None
    if isinstance(fiscal_year, int) and -10000 < fiscal_year < 10000:
        found = FiscalYear.objects.for_company(company).filter(year=fiscal_year).first()
    if found is None:
        raise ValidationFailed(f"No fiscal year {fiscal_year} in this company; open it first.",
                               code="budget.unknown_fiscal_year", field="fiscal_year")
    return found


def _draft(budget: Budget) -> Budget:
    locked = Budget.objects.select_for_update().get(pk=budget.pk)
    if locked.status != BudgetStatus.DRAFT:
        raise Conflict("An approved budget cannot be changed; return it to draft first.", code="budget.not_draft")
    return locked


def create_budget(*, actor, company: Company, name: str, fiscal_year, description: str = "",
                  check_permission: bool = True) -> Budget:
    """A new draft budget for a fiscal year (its number, e.g. 2026, or the FiscalYear)."""
    require(actor, company, "budget.manage", check_permission=check_permission)
    name, year = _name(name), _fiscal_year(company, fiscal_year)
    if len(description or "") > 2000:
        raise ValidationFailed("The description is too long (2000 characters at most).", code="budget.invalid",
                               field="description")
    try:
        with transaction.atomic():
            budget = Budget.objects.create(company=company, name=name, fiscal_year=year, description=description or "",
                                           created_by=actor if getattr(actor, "pk", None) else None)
            record(company=company, actor=actor, verb=BUDGET_CHANGED.name, subject=budget,
                   data={"action": "created", "name": name, "fiscal_year": year.year})
    except IntegrityError:
        raise ValidationFailed(f"FY{year.year} already has a budget named '{name}'.", code="budget.duplicate_name",
                               field="name")
    return budget


def update_budget(*, actor, budget: Budget, name: str | None = None, description: str | None = None,
                  check_permission: bool = True) -> Budget:
    """Rename a draft budget or change its description."""
    require(actor, budget.company_id, "budget.manage", check_permission=check_permission)
    changes = {}
    if name is not None:
        changes["name"] = _name(name)
    if description is not None:
        if len(description) > 2000:
            raise ValidationFailed("The description is too long (2000 characters at most).", code="budget.invalid",
                                   field="description")
        changes["description"] = description
    try:
        with transaction.atomic():
            _draft(budget)
            if changes:
                Budget.objects.filter(pk=budget.pk).update(**changes)
                for key, value in changes.items():
                    setattr(budget, key, value)
                record(company=budget.company, actor=actor, verb=BUDGET_CHANGED.name, subject=budget,
                       data={"action": "updated", **changes})
    except IntegrityError:
        raise ValidationFailed(f"FY{budget.fiscal_year.year} already has a budget named '{changes.get('name')}'.",
                               code="budget.duplicate_name", field="name")
    return budget


def delete_budget(*, actor, budget: Budget, check_permission: bool = True) -> None:
    """Delete a draft budget and its lines."""
    require(actor, budget.company_id, "budget.manage", check_permission=check_permission)
    with transaction.atomic():
        _draft(budget)
        record(company=budget.company, actor=actor, verb=BUDGET_CHANGED.name, subject=budget,
               data={"action": "deleted", "name": budget.name})
        budget.delete()


@dataclass
class BudgetRowInput:
    """One account's (and optionally cost centre's) amounts for the budget's months.

    Give `months` (one amount per period of the fiscal year, in order) or `annual` (spread
    evenly with `spread_annual`). `account` and `cost_centre` are instances, ids or codes.
    """

    account: object
    cost_centre: object = None
    months: Sequence | None = None
    annual: object = None


@dataclass
class _Resolved:
    account: Account
    cost_centre: CostCentre | None
    amounts: list[Decimal]


class _Lookup:
    """The company's accounts, cost centres and the budget's periods, read once."""

    def __init__(self, budget: Budget) -> None:
        company = budget.company
        self.accounts = {a.code: a for a in Account.objects.for_company(company)}
        self.accounts_by_id = {a.pk: a for a in self.accounts.values()}
        self.centres = {c.code: c for c in CostCentre.objects.for_company(company)}
        self.centres_by_id = {c.pk: c for c in self.centres.values()}
        self.periods = list(Period.objects.for_company(company).filter(fiscal_year=budget.fiscal_year).order_by("start"))
        self.decimals = currency_decimals(company.base_currency_id)

    def _find(self, value, by_code: dict, by_id: dict, kind_model):
        if isinstance(value, kind_model):
            return by_id.get(value.pk)
        text = str(value).strip()
        found = by_code.get(text)
        if found is None and not isinstance(value, str) and parse_id(text) is not None:
            found = by_id.get(parse_id(text))
        return found

    def resolve(self, row: BudgetRowInput, prefix: str) -> _Resolved:
        account = None if row.account in (None, "") else self._find(row.account, self.accounts, self.accounts_by_id,
                                                                     Account)
        if account is None:
            raise ValidationFailed(f"No account '{str(row.account)[:40]}' in this company.",
                                   code="budget.unknown_account", field=f"{prefix}account")
        centre = None
        if row.cost_centre not in (None, ""):
            centre = self._find(row.cost_centre, self.centres, self.centres_by_id, CostCentre)
            if centre is None:
                raise ValidationFailed(f"No cost centre '{str(row.cost_centre)[:40]}' in this company.",
                                       code="budget.unknown_cost_centre", field=f"{prefix}cost_centre")
        count = len(self.periods)
        if row.months is not None and row.annual not in (None, ""):
            raise ValidationFailed("Give either the monthly amounts or an annual amount, not both.",
                                   code="budget.invalid", field=f"{prefix}months")
        if row.annual not in (None, ""):
            annual = _amount(row.annual, f"{prefix}annual", self.decimals)
            amounts = spread_annual(annual, months=count, decimals=self.decimals)
        else:
            months = list(row.months or [])
            if len(months) != count:
                raise ValidationFailed(f"Give {count} monthly amounts (one per period of the fiscal year).",
                                       code="budget.invalid", field=f"{prefix}months")
            amounts = [_amount(value, f"{prefix}months[{i}]", self.decimals) for i, value in enumerate(months)]
        return _Resolved(account, centre, amounts)


def _write_rows(budget: Budget, lookup: _Lookup, rows: list[_Resolved], *, replace: bool) -> int:
    """Replace the amounts of the given (account, cost centre) rows (or the whole budget); zero amounts are not stored."""
    lines = BudgetLine.objects.filter(company=budget.company_id, budget=budget)
    if replace:
        lines.delete()
    else:
        for row in rows:
            lines.filter(account=row.account, cost_centre=row.cost_centre).delete()
    new = [
        BudgetLine(company_id=budget.company_id, budget=budget, account=row.account, cost_centre=row.cost_centre,
                   period=period, amount=amount)
        for row in rows for period, amount in zip(lookup.periods, row.amounts, strict=True) if amount
    ]
    BudgetLine.objects.bulk_create(new, batch_size=1000)
    return len(new)


def _check_unique(rows: list[_Resolved], prefix) -> None:
    seen: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        key = (row.account.pk, row.cost_centre.pk if row.cost_centre else None)
        if key in seen:
            raise ValidationFailed(
                f"{row.account.code}{' / ' + row.cost_centre.code if row.cost_centre else ''} appears twice.",
                code="budget.duplicate_row", field=f"{prefix(index)}account")
        seen[key] = index


def set_budget_rows(*, actor, budget: Budget, rows: Iterable[BudgetRowInput], replace: bool = False,
                    check_permission: bool = True) -> Budget:
    """Set the monthly amounts of some accounts (or, with `replace`, of the whole budget) of a draft budget."""
    require(actor, budget.company_id, "budget.manage", check_permission=check_permission)
    lookup = _Lookup(budget)
    rows = list(rows)
    resolved = [lookup.resolve(row, f"rows[{index}].") for index, row in enumerate(rows)]
    _check_unique(resolved, lambda index: f"rows[{index}].")
    with transaction.atomic():
        _draft(budget)
        written = _write_rows(budget, lookup, resolved, replace=replace)
        record(company=budget.company, actor=actor, verb=BUDGET_CHANGED.name, subject=budget,
               data={"action": "lines_set", "rows": len(resolved), "lines": written, "replace": replace,
                     "accounts": sorted({r.account.code for r in resolved})[:50]})
    return budget


def _csv_rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    if "account" not in header:
        raise ValidationFailed("The file needs a header row with an 'account' column.", code="budget.invalid_file",
                               field="file")
    rows = []
    for raw in reader:
        if len(rows) >= MAX_IMPORT_ROWS:
            raise ValidationFailed(f"A file has at most {MAX_IMPORT_ROWS} rows.", code="budget.invalid_file",
                                   field="file")
        row = {(k or "").strip().lower(): (v if isinstance(v, str) else "") for k, v in raw.items()}
        if any(value.strip() for value in row.values()):
            rows.append(row)
    return header, rows


def import_budget_csv(*, actor, budget: Budget, file, replace: bool = False, check_permission: bool = True) -> int:
    """Import budget rows from CSV: `account`, optional `cost_centre`, then `annual` or one column per month.

    Month columns are named by the period (`2026-01`) or by their place in the fiscal year
    (`1` .. `12`, `m1` .. `m12`). A row replaces the amounts of its account and cost centre
    (with `replace`, the whole budget is replaced). Any bad row refuses the file, naming
    the row; nothing is written. Returns the number of rows imported.
    """
    require(actor, budget.company_id, "budget.manage", check_permission=check_permission)
    data = file.read(MAX_IMPORT_BYTES + 1) if hasattr(file, "read") else file
    if isinstance(data, bytes):
        if len(data) > MAX_IMPORT_BYTES:
            raise ValidationFailed("The file is too large (2 MB at most).", code="budget.invalid_file", field="file")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("The file is not UTF-8 text.", code="budget.invalid_file", field="file")
    if "\x00" in data:
        raise ValidationFailed("The file is not a CSV text file.", code="budget.invalid_file", field="file")
    try:
        header, raw_rows = _csv_rows(data)
    except csv.Error as exc:
        raise ValidationFailed(f"The file is not valid CSV: {exc}.", code="budget.invalid_file", field="file")
    lookup = _Lookup(budget)
    month_columns: list[str | None] = []
    for index, period in enumerate(lookup.periods, start=1):
        names = [period.name, str(index), f"{index:02d}", f"m{index}", f"m{index:02d}"]
        month_columns.append(next((name for name in names if name in header), None))
    has_months = any(month_columns)
    if not has_months and "annual" not in header:
        raise ValidationFailed("The file needs an 'annual' column or one column per month (e.g. 2026-01).",
                               code="budget.invalid_file", field="file")
    resolved = []
    for number, row in enumerate(raw_rows, start=2):
        annual = (row.get("annual") or "").strip()
        months = None
        if has_months and not annual:
            months = [(row.get(column) or "0") if column else "0" for column in month_columns]
        item = BudgetRowInput(account=(row.get("account") or "").strip(), cost_centre=(row.get("cost_centre") or "").strip(),
                              months=months, annual=annual or (None if months is not None else "0"))
        try:
            resolved.append(lookup.resolve(item, ""))
        except ValidationFailed as exc:
            raise ValidationFailed(f"Row {number}: {exc.message}", code=exc.code, field="file")
    if not resolved:
        raise ValidationFailed("The file has no budget rows.", code="budget.invalid_file", field="file")
    try:
        _check_unique(resolved, lambda index: "")
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, code=exc.code, field="file")
    with transaction.atomic():
        _draft(budget)
        written = _write_rows(budget, lookup, resolved, replace=replace)
        record(company=budget.company, actor=actor, verb=BUDGET_IMPORTED.name, subject=budget,
               data={"rows": len(resolved), "lines": written, "replace": replace})
    return len(resolved)


def export_budget_csv(*, budget: Budget) -> str:
    """The budget as CSV in the import format (account, cost_centre, one column per month)."""
    periods = list(Period.objects.for_company(budget.company_id).filter(fiscal_year=budget.fiscal_year_id)
                   .order_by("start"))
    grid = budget_grid(budget, periods=periods)
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["account", "cost_centre", *[p.name for p in periods]])
    for row in grid:
        writer.writerow([row["account"].code, row["cost_centre"].code if row["cost_centre"] else "",
                         *[str(a) for a in row["amounts"]]])
    return out.getvalue()


def budget_grid(budget: Budget, *, periods: list[Period] | None = None) -> list[dict]:
    """The budget as rows of (account, cost centre, one amount per period, total), ordered by account code."""
    if periods is None:
        periods = list(Period.objects.for_company(budget.company_id).filter(fiscal_year=budget.fiscal_year_id)
                       .order_by("start"))
    position = {p.pk: i for i, p in enumerate(periods)}
    step = quantum(currency_decimals(budget.company.base_currency_id))
    rows: dict[tuple, dict] = {}
    lines = (BudgetLine.objects.filter(company=budget.company_id, budget=budget)
             .select_related("account", "cost_centre")
             # The account's own row (no cost centre) first on both engines (PostgreSQL sorts NULLs last).
             .order_by("account__code", F("cost_centre__code").asc(nulls_first=True), "period__start"))
    for line in lines:
        key = (line.account_id, line.cost_centre_id)
        row = rows.setdefault(key, {"account": line.account, "cost_centre": line.cost_centre,
                                    "amounts": [Decimal(0).quantize(step)] * len(periods)})
        if line.period_id in position:
            row["amounts"][position[line.period_id]] = Decimal(line.amount).quantize(step)
    result = list(rows.values())
    for row in result:
        row["total"] = sum(row["amounts"], Decimal(0).quantize(step))
    return result


def approve_budget(*, actor, budget: Budget, check_permission: bool = True) -> Budget:
    """Approve a draft budget: its figures are frozen and become the reference of budget-versus-actual."""
    require(actor, budget.company_id, "budget.approve", check_permission=check_permission)
    with transaction.atomic():
        apply_transition(budget, transitions=BUDGET_TRANSITIONS, to=BudgetStatus.APPROVED, code="budget.illegal",
                         approved_by=actor if getattr(actor, "pk", None) else None, approved_at=timezone.now())
        record(company=budget.company, actor=actor, verb=BUDGET_APPROVED.name, subject=budget,
               data={"name": budget.name, "fiscal_year": budget.fiscal_year.year})
    return budget


def reopen_budget(*, actor, budget: Budget, check_permission: bool = True) -> Budget:
    """Return an approved budget to draft, so it can be changed (and approved again)."""
    require(actor, budget.company_id, "budget.approve", check_permission=check_permission)
    with transaction.atomic():
        apply_transition(budget, transitions=BUDGET_TRANSITIONS, to=BudgetStatus.DRAFT, code="budget.illegal",
                         approved_by=None, approved_at=None)
        record(company=budget.company, actor=actor, verb=BUDGET_REOPENED.name, subject=budget,
               data={"name": budget.name})
    return budget
