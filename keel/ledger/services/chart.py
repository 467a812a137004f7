"""The chart of accounts: accounts, groups, cost centres; templates and CSV import/export.

A chart file (and the shipped templates in keel/ledger/charts/) is a CSV with the columns
`kind,code,name,type,role,parent` and an optional `cash_flow`: `group` rows form the report
structure (parent = the parent group's code), `account` rows name their group in `parent`.
Groups come before the rows that refer to them. `cash_flow` is the section of the cash-flow
statement (operating, non_cash, investing, financing; empty: as the parent group, or for an
account as its group); a file without the column leaves the classification as it is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from keel.core.activity import record
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.spreadsheet import csv_writer, unescape_cell
from keel.ledger.choices import UNIQUE_ROLES, AccountRole, AccountType, CashFlowCategory
from keel.ledger.events import (
    ACCOUNT_CHANGED,
    ACCOUNT_GROUP_CHANGED,
    CHART_APPLIED,
    COST_CENTRE_CHANGED,
)
from keel.ledger.exceptions import AccountInUse
from keel.ledger.models import Account, AccountGroup, BudgetLine, CostCentre, Line
from keel.ledger.services._common import require

CHARTS_DIR = Path(__file__).resolve().parent.parent / "charts"
CHART_COLUMNS = ["kind", "code", "name", "type", "role", "parent"]  # required
CASH_FLOW_COLUMN = "cash_flow"  # optional on import, always exported
EXPORT_COLUMNS = [*CHART_COLUMNS, CASH_FLOW_COLUMN]


@dataclass
class ChartResult:
    """What loading a chart did."""

    groups_created: int = 0
    groups_updated: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    errors: list[dict] = field(default_factory=list)


def available_templates() -> list[str]:
    return sorted(p.stem for p in CHARTS_DIR.glob("*.csv"))


def _clean_code(value: str) -> str:
    return (value or "").strip()


def _check_cash_flow(value: str, *, code: str = "account.invalid_cash_flow") -> str:
    """A cash-flow section as stored: a CashFlowCategory value, or "" (inherit)."""
    value = (value or "").strip().lower()
    if value and value not in CashFlowCategory.values:
        raise ValidationFailed(
            f"'{value[:40]}' is not a cash-flow section ({', '.join(CashFlowCategory.values)}, or empty to inherit).",
            code=code, field="cash_flow",
        )
    return value


def _check_account_values(*, code: str, name: str, account_type: str, role: str) -> None:
    if not code or len(code) > 20:
        raise ValidationFailed("An account code has 1 to 20 characters.", code="account.invalid", field="code")
    if not name or len(name) > 200:
        raise ValidationFailed("An account name has 1 to 200 characters.", code="account.invalid", field="name")
    if account_type not in AccountType.values:
        raise ValidationFailed(
            f"'{account_type}' is not an account type ({', '.join(AccountType.values)}).",
            code="account.invalid_type", field="account_type",
        )
    if role not in AccountRole.values:
        raise ValidationFailed(f"'{role}' is not an account role.", code="account.invalid_role", field="role")


def create_account(
    *, actor, company: Company, code: str, name: str, account_type: str, role: str = "",
    group: AccountGroup | None = None, currency: str | None = None, description: str = "", cash_flow: str = "",
    check_permission: bool = True,
) -> Account:
    """Add an account to the company's chart (`cash_flow`: its own cash-flow section; empty: its group's)."""
    require(actor, company, "ledger.manage", check_permission=check_permission)
    code, name, role = _clean_code(code), (name or "").strip(), role or ""
    _check_account_values(code=code, name=name, account_type=account_type, role=role)
    cash_flow = _check_cash_flow(cash_flow)
    if group is not None and group.company_id != company.pk:
        raise ValidationFailed("That group belongs to another company.", code="account.other_company", field="group")
    try:
        with transaction.atomic():
            account = Account.objects.create(
                company=company, code=code, name=name, account_type=account_type, role=role, group=group,
                currency_id=currency.upper() if currency else None, description=description, cash_flow=cash_flow,
            )
            record(company=company, actor=actor, verb=ACCOUNT_CHANGED.name, subject=account,
                   data={"action": "created", "code": code, "type": account_type, "role": role})
    except IntegrityError:
        if role in UNIQUE_ROLES and Account.objects.for_company(company).filter(role=role).exists():
            raise ValidationFailed(f"The company already has a '{role}' account.", code="account.role_taken", field="role")
        raise ValidationFailed(f"The account code '{code}' is already used.", code="account.duplicate_code", field="code")
    return account


def set_account_active(*, actor, account: Account, is_active: bool, check_permission: bool = True) -> Account:
    """Deactivate (no new postings) or reactivate an account; its history stays."""
    require(actor, account.company_id, "ledger.manage", check_permission=check_permission)
    if account.is_active != is_active:
        with transaction.atomic():
            Account.objects.filter(pk=account.pk).update(is_active=is_active)
            account.is_active = is_active
            record(company=account.company, actor=actor, verb=ACCOUNT_CHANGED.name, subject=account,
                   data={"action": "activated" if is_active else "deactivated", "code": account.code})
    return account


def update_account(
    *, actor, account: Account, name: str | None = None, role: str | None = None,
    group: AccountGroup | None | bool = False, description: str | None = None, cash_flow: str | None = None,
    check_permission: bool = True,
) -> Account:
    """Rename an account, change its role, group (None: no group), description or cash-flow
    section ("": as its group).

    Its code, type and currency stay: lines already posted were booked under them.
    """
    require(actor, account.company_id, "ledger.manage", check_permission=check_permission)
    changes: dict = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("An account name has 1 to 200 characters.", code="account.invalid", field="name")
        changes["name"] = name
    if role is not None:
        if role not in AccountRole.values:
            raise ValidationFailed(f"'{role}' is not an account role.", code="account.invalid_role", field="role")
        if role in UNIQUE_ROLES and Account.objects.for_company(account.company_id).filter(role=role).exclude(
                pk=account.pk).exists():
            raise ValidationFailed(f"The company already has a '{role}' account.", code="account.role_taken",
                                   field="role")
        changes["role"] = role
    if group is not False:
        if group is not None and group.company_id != account.company_id:
            raise ValidationFailed("That group belongs to another company.", code="account.other_company",
                                   field="group")
        changes["group"] = group
    if description is not None:
        changes["description"] = description[:2000]
    if cash_flow is not None:
        changes["cash_flow"] = _check_cash_flow(cash_flow)
    with transaction.atomic():
        changed = _save_changes(account, changes)
        if changed:
            record(company=account.company, actor=actor, verb=ACCOUNT_CHANGED.name, subject=account,
                   data={"action": "updated", "code": account.code, "fields": sorted(changed)})
    return account


def _save_changes(instance, changes: dict) -> dict:
    """Write the fields of `changes` that differ from `instance`, on its row and on it;
    answers those fields (empty: nothing to record)."""
    changed = {key: value for key, value in changes.items() if getattr(instance, key) != value}
    if changed:
        type(instance).objects.filter(pk=instance.pk).update(**changed)
        for key, value in changed.items():
            setattr(instance, key, value)
    return changed


def _referrers(objects) -> str:
    """'tax code S20 and bank accounts Main, Savings': what refers to the account, by kind."""
    by_kind: dict[str, tuple] = {}
    for obj in objects:
        if isinstance(obj, BudgetLine):  # known by its budget: "budget Plan (FY2026)"
            owner, label = obj.budget, str(obj.budget)
        else:
            owner, label = obj, getattr(obj, "code", "") or getattr(obj, "name", "") or str(obj)
        by_kind.setdefault(owner._meta.label, (owner._meta, set()))[1].add(label)
    parts = []
    for meta, labels in sorted(by_kind.values(), key=lambda item: str(item[0].verbose_name)):
        names = sorted(labels)
        kind = meta.verbose_name if len(names) == 1 else meta.verbose_name_plural
        parts.append(f"{kind} {', '.join(names[:3])}" + (f" and {len(names) - 3} more" if len(names) > 3 else ""))
    return " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]


def delete_account(*, actor, account: Account, check_permission: bool = True) -> None:
    """Delete an unused account; one with lines, or that a tax code, bank account, budget,
    journal... refers to, is refused (deactivate it instead)."""
    require(actor, account.company_id, "ledger.manage", check_permission=check_permission)
    if Line.objects.filter(company_id=account.company_id, account=account).exists():
        raise AccountInUse(
            f"Account {account.code} has journal lines; deactivate it instead.", code="account.in_use", field="account"
        )

    with transaction.atomic():
        record(company=account.company, actor=actor, verb=ACCOUNT_CHANGED.name, subject=account,
               data={"action": "deleted", "code": account.code})
        try:
            account.delete()
        except (ProtectedError, RestrictedError) as exc:
            # Raising leaves the atomic block, which rolls back the activity recorded above.
            found = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
            raise AccountInUse(
                f"Account {account.code} is used by {_referrers(found)}; change that first or deactivate the account.",
                code="account.in_use", field="account",
            )


def update_account_group(
    *, actor, group: AccountGroup, name: str | None = None, cash_flow: str | None = None,
    check_permission: bool = True,
) -> AccountGroup:
    """Rename an account group or set the cash-flow section of its accounts' movements.

    `cash_flow` "" means as the parent group (a top-level group: operating); the statement
    reads it for every account below the group that has no section of its own or of a
    nearer group.
    """
    require(actor, group.company_id, "ledger.manage", check_permission=check_permission)
    changes: dict = {}
    if name is not None:
        name = name.strip()
        if not name or len(name) > 200:
            raise ValidationFailed("A group name has 1 to 200 characters.", code="account_group.invalid",
                                   field="name")
        changes["name"] = name
    if cash_flow is not None:
        changes["cash_flow"] = _check_cash_flow(cash_flow, code="account_group.invalid_cash_flow")
    with transaction.atomic():
        changed = _save_changes(group, changes)
        if changed:
            record(company=group.company, actor=actor, verb=ACCOUNT_GROUP_CHANGED.name, subject=group,
                   data={"action": "updated", "code": group.code, "fields": sorted(changed),
                         "cash_flow": group.cash_flow})
    return group


def create_cost_centre(*, actor, company: Company, code: str, name: str, check_permission: bool = True) -> CostCentre:
    require(actor, company, "ledger.manage", check_permission=check_permission)
    code, name = _clean_code(code), (name or "").strip()
    if not code or len(code) > 20 or not name:
        raise ValidationFailed("A cost centre needs a code (up to 20 characters) and a name.", code="cost_centre.invalid")
    try:
        with transaction.atomic():
            centre = CostCentre.objects.create(company=company, code=code, name=name)
            record(company=company, actor=actor, verb=COST_CENTRE_CHANGED.name, subject=centre,
                   data={"action": "created", "code": code, "name": name})
            return centre
    except IntegrityError:
        raise ValidationFailed(f"The cost centre '{code}' exists already.", code="cost_centre.duplicate_code", field="code")


def set_cost_centre_active(*, actor, cost_centre: CostCentre, is_active: bool,
                           check_permission: bool = True) -> CostCentre:
    """Deactivate a cost centre (posting refuses it; its history stays) or reactivate it."""
    require(actor, cost_centre.company_id, "ledger.manage", check_permission=check_permission)
    with transaction.atomic():
        changed = CostCentre.objects.filter(pk=cost_centre.pk).exclude(is_active=is_active).update(is_active=is_active)
        cost_centre.is_active = is_active
        if changed:
            record(company=cost_centre.company, actor=actor, verb=COST_CENTRE_CHANGED.name, subject=cost_centre,
                   data={"action": "activated" if is_active else "deactivated", "code": cost_centre.code})
    return cost_centre


def _parse_chart(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CHART_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationFailed(
            f"The chart file lacks the columns: {', '.join(missing)}.", code="chart.bad_columns", field="file"
        )
    # Cells a spreadsheet-safe export wrote as '=... come back as they were typed.
    return [(number, {k: unescape_cell((v or "").strip()) for k, v in row.items() if k})
            for number, row in enumerate(reader, start=2)]


def load_chart(*, actor, company: Company, text: str, check_permission: bool = True) -> ChartResult:
    """Load a chart file: create missing groups and accounts, update names, roles and groups,
    and (when the file has the `cash_flow` column) the cash-flow sections of groups and accounts.

    All or nothing: every bad row is reported (line number and reason) in the error's
    `errors`, and nothing is written when there is one.
    """
    require(actor, company, "ledger.manage", check_permission=check_permission)
    rows = _parse_chart(text)
    result = ChartResult()
    with transaction.atomic():
        groups = {g.code: g for g in AccountGroup.objects.for_company(company)}
        accounts = {a.code: a for a in Account.objects.for_company(company)}
        roles_taken = {a.role: a.code for a in accounts.values() if a.role in UNIQUE_ROLES}
        used = set(Line.objects.for_company(company).values_list("account_id", flat=True).distinct())
        new_groups: list[tuple[AccountGroup, str]] = []
        changed_groups: list[AccountGroup] = []
        creates: list[Account] = []
        updates: list[Account] = []
        errors = result.errors
        seen_codes: set[tuple[str, str]] = set()
        for number, row in rows:
            kind, code, name = row.get("kind", "").lower(), row.get("code", ""), row.get("name", "")
            if (kind, code) in seen_codes:
                errors.append({"line": number, "code": "chart.duplicate_row", "message": f"{kind} {code} appears twice."})
                continue
            seen_codes.add((kind, code))
            cash_flow = None  # None: the file has no cash_flow column, so the classification stays
            if kind in ("group", "account") and CASH_FLOW_COLUMN in row:
                try:
                    cash_flow = _check_cash_flow(row[CASH_FLOW_COLUMN], code="chart.invalid_cash_flow")
                except ValidationFailed as exc:
                    errors.append({"line": number, "code": exc.code, "message": exc.message})
                    continue
            if kind == "group":
                if not code or len(code) > 20 or not name:
                    errors.append({"line": number, "code": "chart.invalid_group", "message": "A group needs a code and a name."})
                    continue
                parent_code = row.get("parent", "")
                if parent_code and parent_code not in groups:
                    errors.append({"line": number, "code": "chart.unknown_parent",
                                   "message": f"Parent group '{parent_code}' is not defined above."})
                    continue
                if code not in groups:
                    group = AccountGroup(company=company, code=code, name=name[:200], position=number,
                                         cash_flow=cash_flow or "")
                    groups[code] = group
                    new_groups.append((group, parent_code))
                elif cash_flow is not None and groups[code].cash_flow != cash_flow:
                    groups[code].cash_flow = cash_flow
                    changed_groups.append(groups[code])
            elif kind == "account":
                account_type, role, group_code = row.get("type", "").lower(), row.get("role", "").lower(), row.get("parent", "")
                try:
                    _check_account_values(code=code, name=name, account_type=account_type, role=role)
                except ValidationFailed as exc:
                    errors.append({"line": number, "code": exc.code, "message": exc.message})
                    continue
                if group_code and group_code not in groups:
                    errors.append({"line": number, "code": "chart.unknown_group",
                                   "message": f"Group '{group_code}' is not defined above."})
                    continue
                if role in UNIQUE_ROLES and roles_taken.get(role, code) != code:
                    errors.append({"line": number, "code": "account.role_taken",
                                   "message": f"Role '{role}' is already held by account {roles_taken[role]}."})
                    continue
                if role in UNIQUE_ROLES:
                    roles_taken[role] = code
                group = groups.get(group_code) if group_code else None
                existing = accounts.get(code)
                if existing is None:
                    account = Account(company=company, code=code, name=name, account_type=account_type, role=role,
                                      cash_flow=cash_flow or "")
                    account._group_code = group_code  # resolved to an id once new groups are saved
                    creates.append(account)
                    accounts[code] = account
                    continue
                if existing.pk is None:
                    continue
                if existing.account_type != account_type and existing.pk in used:
                    errors.append({"line": number, "code": "account.type_locked",
                                   "message": f"Account {code} has lines; its type cannot change."})
                    continue
                changed = (existing.name, existing.account_type, existing.role, existing.group_id) != (
                    name, account_type, role, group.pk if group is not None else None)
                changed = changed or cash_flow is not None and existing.cash_flow != cash_flow
                if changed or group is not None and group.pk is None:
                    existing.name, existing.account_type, existing.role = name, account_type, role
                    if cash_flow is not None:
                        existing.cash_flow = cash_flow
                    existing._group_code = group_code
                    updates.append(existing)
            else:
                errors.append({"line": number, "code": "chart.unknown_kind", "message": f"Kind '{kind}' is not group or account."})
        if errors:
            raise ValidationFailed(
                f"The chart has {len(errors)} bad row(s); nothing was loaded. First: line "
                f"{errors[0]['line']}: {errors[0]['message']}",
                code="chart.invalid", field="file", extra={"errors": errors},
            )
        for group, parent_code in new_groups:  # parents come first in the file
            group.parent = groups[parent_code] if parent_code else None
            group.save()
        AccountGroup.objects.bulk_update(changed_groups, ["cash_flow"], batch_size=500)
        for account in [*creates, *updates]:
            code = getattr(account, "_group_code", "")
            account.group = groups[code] if code else None
        Account.objects.bulk_create(creates, batch_size=500)
        if updates:
            # Free unique roles first, so two accounts can swap a role in one file.
            Account.objects.filter(pk__in=[a.pk for a in updates]).update(role="")
            Account.objects.bulk_update(updates, ["name", "account_type", "role", "group", "cash_flow"],
                                        batch_size=500)
        result.groups_created, result.accounts_created, result.accounts_updated = len(new_groups), len(creates), len(updates)
        result.groups_updated = len(changed_groups)
        if new_groups or changed_groups or creates or updates:
            record(company=company, actor=actor, verb=CHART_APPLIED.name, subject=company,
                   data={"groups_created": len(new_groups), "groups_updated": len(changed_groups),
                         "accounts_created": len(creates), "accounts_updated": len(updates)})
    return result


def import_chart_csv(*, actor, company: Company, file, check_permission: bool = True) -> ChartResult:
    """Load a chart from a CSV file (path, text stream, or bytes), e.g. a country's chart."""
    if isinstance(file, str | Path):
        text = Path(file).read_text(encoding="utf-8")
    else:
        content = file.read()
        text = content.decode("utf-8") if isinstance(content, bytes) else content
    return load_chart(actor=actor, company=company, text=text, check_permission=check_permission)


def export_chart_csv(*, company: Company) -> str:
    """The company's chart as a CSV file that import_chart_csv loads again."""
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    groups = list(AccountGroup.objects.for_company(company).select_related("parent"))
    by_id = {g.pk: g for g in groups}
    emitted: set[int] = set()

    def emit(group: AccountGroup) -> None:  # parents before children
        if group.pk in emitted:
            return
        if group.parent_id:
            emit(by_id[group.parent_id])
        writer.writerow(["group", group.code, group.name, "", "", group.parent.code if group.parent_id else "",
                         group.cash_flow])
        emitted.add(group.pk)

    for group in groups:
        emit(group)
    for account in Account.objects.for_company(company).select_related("group").order_by("code"):
        writer.writerow(["account", account.code, account.name, account.account_type, account.role,
                         account.group.code if account.group_id else "", account.cash_flow])
    return out.getvalue()


def apply_chart_template(
    *, company: Company, actor, template: str = "small_business", check_permission: bool = True
) -> ChartResult:
    """Set a company's books up: the chart template (if it has no accounts yet), journals,
    and the current fiscal year. Idempotent: running it again changes nothing."""
    from keel.ledger.services.journals import ensure_default_journals
    from keel.ledger.services.periods import ensure_fiscal_year

    require(actor, company, "ledger.manage", check_permission=check_permission)
    path = CHARTS_DIR / f"{template}.csv"
    if template not in available_templates():
        raise ValidationFailed(f"No chart template '{template}'.", code="chart.unknown_template", field="template")
    with transaction.atomic():
        if Account.objects.for_company(company).exists():
            result = ChartResult()
        else:
            result = load_chart(actor=actor, company=company, text=path.read_text(encoding="utf-8"), check_permission=False)
        ensure_default_journals(company=company)
        from django.utils import timezone

        ensure_fiscal_year(company=company, fiscal_year=company.fiscal_year_of(timezone.localdate()), actor=actor)
        from keel.ledger.services.taxes import ensure_default_tax_codes

        ensure_default_tax_codes(company)
    return result
