"""Tax codes: create, change, deactivate, the defaults, and the account a code's tax posts to."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from keel.core.activity import record
from keel.core.exceptions import ValidationFailed
from keel.core.models import Company
from keel.core.money import parse_amount
from keel.ledger.choices import TAX_ACCOUNT_ROLE, TaxKind
from keel.ledger.events import TAX_CODE_CHANGED
from keel.ledger.models import Account, Line, TaxBox, TaxCode, TaxCodeComponent
from keel.ledger.services._common import require

ZERO = Decimal(0)
MAX_RATE = Decimal(1000)
MAX_COMPONENTS = 10

# code -> (name, kind, rate, price_included, base box, tax box): UK VAT return boxes
# (1 VAT due on sales, 4 VAT reclaimed on purchases, 6 sales ex VAT, 7 purchases ex VAT).
DEFAULT_TAX_CODES: dict[str, tuple[str, str, str, bool, str, str]] = {
    "S20": ("Standard rate sales 20 %", TaxKind.SALES, "20", False, "6", "1"),
    "S5": ("Reduced rate sales 5 %", TaxKind.SALES, "5", False, "6", "1"),
    "S0": ("Zero-rated sales", TaxKind.SALES, "0", False, "6", "1"),
    "SEX": ("Exempt sales", TaxKind.SALES, "0", False, "6", ""),
    "P20": ("Standard rate purchases 20 %", TaxKind.PURCHASE, "20", False, "7", "4"),
    "P5": ("Reduced rate purchases 5 %", TaxKind.PURCHASE, "5", False, "7", "4"),
    "P0": ("Zero-rated purchases", TaxKind.PURCHASE, "0", False, "7", "4"),
    "PEX": ("Exempt purchases", TaxKind.PURCHASE, "0", False, "7", ""),
}

# The UK VAT return's boxes (HMRC's VAT100) with their official names; 3 and 5 are totals.
# Box 5 is signed here: negative is VAT to reclaim.
DEFAULT_TAX_BOXES: list[tuple[str, str, str]] = [
    ("1", "VAT due in the period on sales and other outputs", ""),
    ("2", "VAT due in the period on acquisitions of goods made in Northern Ireland from EU Member States", ""),
    ("3", "Total VAT due (the sum of boxes 1 and 2)", "1+2"),
    ("4", "VAT reclaimed in the period on purchases and other inputs (including acquisitions in Northern "
          "Ireland from EU Member States)", ""),
    ("5", "Net VAT to pay to HMRC or reclaim (the difference between boxes 3 and 4)", "3-4"),
    ("6", "Total value of sales and all other outputs excluding any VAT", ""),
    ("7", "Total value of purchases and all other inputs excluding any VAT", ""),
    ("8", "Total value of dispatches of goods and related costs (excluding VAT) from Northern Ireland to EU "
          "Member States", ""),
    ("9", "Total value of acquisitions of goods and related costs (excluding VAT) made in Northern Ireland from "
          "EU Member States", ""),
]

ROLE_OF_KIND = TAX_ACCOUNT_ROLE


def _invalid(message: str, field_name: str, code: str = "tax_code.invalid") -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field_name)


def _parse_rate(value: Any) -> Decimal:
    """A tax rate in percent (0 to 999, at most 6 decimals), read by the core number parser."""
    if isinstance(value, bool) or value is None or value == "":
        raise _invalid("Give the rate in percent, e.g. 20.", "rate")
    try:
        rate = parse_amount(value, decimals=6, field="rate", label="rate")
    except ValidationFailed as error:
        if error.code == "money.too_many_decimals":
            raise _invalid("A rate has at most 6 decimals.", "rate")
        if error.code == "money.too_large":
            raise _invalid("A rate is a percentage from 0 to 999.", "rate")
        raise _invalid(error.message, "rate")
    if rate < 0 or rate >= MAX_RATE:
        raise _invalid("A rate is a percentage from 0 to 999.", "rate")
    return rate


def _box(company: Company, value: Any, field_name: str) -> str:
    box = str(value or "").strip()
    if len(box) > 20:
        raise _invalid("A box is named in at most 20 characters.", field_name)
    total_of = TaxBox.objects.for_company(company).filter(box=box).values_list("total_of", flat=True).first()
    if box and total_of:
        raise _invalid(f"Box {box} is the total of boxes {total_of}: a code fills the boxes it adds up.", field_name,
                       "tax_code.box_is_total")
    return box


def _tax_account(company: Company, value: Any) -> Account | None:
    if value in (None, ""):
        return None
    accounts = Account.objects.for_company(company)
    if isinstance(value, Account):
        found = accounts.filter(pk=value.pk).first()
    elif isinstance(value, int) and not isinstance(value, bool):
        found = accounts.filter(pk=value).first()
    else:
        found = accounts.filter(code=str(value).strip()).first()
    if found is None:
        raise _invalid(f"There is no account '{value}' in {company.code}.", "account")
    if not found.is_active:
        raise _invalid(f"Account {found.code} is inactive.", "account")
    return found


def _component_codes(tax_code: TaxCode) -> list[str]:
    if not tax_code.is_group:
        return []
    return [link.component.code for link in tax_code.component_links.select_related("component")]


def _snapshot(tax_code: TaxCode) -> dict:
    snapshot = {
        "code": tax_code.code, "name": tax_code.name, "rate": tax_code.rate, "kind": tax_code.kind,
        "price_included": tax_code.price_included, "account": tax_code.account.code if tax_code.account_id else "",
        "base_box": tax_code.base_box, "tax_box": tax_code.tax_box, "is_active": tax_code.is_active,
    }
    if tax_code.is_group:
        snapshot["components"] = _component_codes(tax_code)
    return snapshot


def _components(company: Company, refs: Any, *, kind: str, group: TaxCode | None = None) -> list[TaxCode]:
    """A group's component codes, checked: at least two, each once, of the company, active,
    plain (no group in a group, nor the group itself) and of the group's kind."""
    refs = [refs] if isinstance(refs, str | int | TaxCode) else list(refs or ())
    if len(refs) < 2:
        raise _invalid("A tax group is made of at least two tax codes.", "components", "tax_code.group_too_small")
    if len(refs) > MAX_COMPONENTS:
        raise _invalid(f"A tax group is made of at most {MAX_COMPONENTS} tax codes.", "components")
    by_id = {t.pk: t for t in TaxCode.objects.for_company(company)}
    by_code = {t.code: t for t in by_id.values()}
    found: list[TaxCode] = []
    for ref in refs:
        if isinstance(ref, TaxCode):
            component = by_id.get(ref.pk)
        elif isinstance(ref, int) and not isinstance(ref, bool):
            component = by_id.get(ref)
        else:
            component = by_code.get(str(ref or "").strip())
        if component is None:
            raise _invalid(f"There is no tax code '{ref}' in {company.code}.", "components",
                           "tax_code.component_not_found")
        if group is not None and component.pk == group.pk:
            raise _invalid(f"The tax group {group.code} cannot contain itself.", "components",
                           "tax_code.group_contains_itself")
        if component.is_group:
            raise _invalid(f"{component.code} is a tax group itself: a group is made of plain tax codes "
                           f"(name its codes instead).", "components", "tax_code.nested_group")
        if component.kind != kind:
            raise _invalid(f"{component.code} is a {TaxKind(component.kind).label.lower()} code and the group a "
                           f"{TaxKind(kind).label.lower()} one: a group's codes are all of its kind.", "components",
                           "tax_code.group_mixed_kinds")
        if not component.is_active:
            raise _invalid(f"Tax code {component.code} is inactive.", "components", "tax_code.component_inactive")
        if any(other.pk == component.pk for other in found):
            raise _invalid(f"A tax group names each code once; {component.code} is named twice.", "components",
                           "tax_code.duplicate_component")
        found.append(component)
    return found


def _check_group_has_no_own_figures(values: dict[str, Any]) -> None:
    """A group's rates, accounts and boxes are its components': refuse them on the group."""
    if values.get("rate") not in (None, "") and _parse_rate(values["rate"]) != 0:
        raise _invalid("A tax group has no rate of its own: each component's rate applies.", "rate")
    if values.get("account") not in (None, ""):
        raise _invalid("A tax group's taxes post to its components' accounts: leave its account empty.", "account")
    for box in ("base_box", "tax_box"):
        if str(values.get(box) or "").strip():
            raise _invalid("A tax group fills its components' boxes: leave its boxes empty.", box)


def _set_components(tax_code: TaxCode, components: Sequence[TaxCode]) -> None:
    TaxCodeComponent.objects.filter(group=tax_code).delete()
    TaxCodeComponent.objects.bulk_create([
        TaxCodeComponent(company_id=tax_code.company_id, group=tax_code, component=component, position=position)
        for position, component in enumerate(components)
    ])


def create_tax_code(
    *, actor, company: Company, code: str, name: str, rate: Any = None, kind: str = TaxKind.SALES,
    price_included: bool = False, account: Any = None, base_box: str = "", tax_box: str = "",
    components: Sequence[Any] = (), check_permission: bool = True,
) -> TaxCode:
    """Add a tax code. Without an account, its tax posts to the chart's role account.

    With `components` (codes, ids or TaxCodes) it is a tax group: a line taxed with it is
    taxed with each component; it has no rate, account or boxes of its own, and stays a
    group (as a plain code stays plain).
    """
    require(actor, company, "tax.manage", check_permission=check_permission)
    code, name = str(code or "").strip(), str(name or "").strip()
    if not code or len(code) > 20 or any(c.isspace() for c in code):
        raise _invalid("A tax code has 1 to 20 characters, without spaces.", "code")
    if not name or len(name) > 200:
        raise _invalid("A tax code's name has 1 to 200 characters.", "name")
    if kind not in TaxKind.values:
        raise _invalid(f"'{kind}' is not a kind of tax code ({', '.join(TaxKind.values)}).", "kind")
    parts: list[TaxCode] = []
    if components:
        _check_group_has_no_own_figures({"rate": rate, "account": account, "base_box": base_box, "tax_box": tax_box})
        parts = _components(company, components, kind=kind)
        values = {"rate": ZERO, "kind": kind, "price_included": bool(price_included), "is_group": True}
    else:
        values = {
            "rate": _parse_rate(rate), "kind": kind, "price_included": bool(price_included),
            "account": _tax_account(company, account), "base_box": _box(company, base_box, "base_box"),
            "tax_box": _box(company, tax_box, "tax_box"),
        }
    try:
        with transaction.atomic():
            tax_code = TaxCode.objects.create(company=company, code=code, name=name, **values)
            if parts:
                _set_components(tax_code, parts)
            record(company=company, actor=actor, verb=TAX_CODE_CHANGED.name, subject=tax_code,
                   data={"action": "created", **_snapshot(tax_code)})
    except IntegrityError:
        raise _invalid(f"The tax code '{code}' exists already.", "code", "tax_code.duplicate_code")
    return tax_code


_EDITABLE = ("name", "rate", "price_included", "account", "base_box", "tax_box", "is_active", "components")


def update_tax_code(*, actor, tax_code: TaxCode, check_permission: bool = True, **changes: Any) -> TaxCode:
    """Change a tax code's name, rate, price inclusion, account, boxes or active flag, or a
    group's components (until a ledger line refers to the group).

    Its code and kind stay: posted lines refer to it, and the tax return reads them by kind.
    Whether it is a group stays too.
    """
    require(actor, tax_code.company_id, "tax.manage", check_permission=check_permission)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise _invalid(f"A tax code's {', '.join(sorted(unknown))} cannot change.", sorted(unknown)[0])
    company = tax_code.company
    values: dict[str, Any] = {}
    components: list[TaxCode] | None = None
    if tax_code.is_group:
        _check_group_has_no_own_figures(changes)
        changes = {k: v for k, v in changes.items() if k not in ("rate", "account", "base_box", "tax_box")}
        if "components" in changes:
            components = _components(company, changes["components"], kind=tax_code.kind, group=tax_code)
    elif changes.get("components"):
        raise _invalid(f"{tax_code.code} is not a tax group, and a code becomes one only when it is created: "
                       f"create a new tax code with these components.", "components", "tax_code.not_a_group")
    if "name" in changes:
        name = str(changes["name"] or "").strip()
        if not name or len(name) > 200:
            raise _invalid("A tax code's name has 1 to 200 characters.", "name")
        values["name"] = name
    if "rate" in changes:
        values["rate"] = _parse_rate(changes["rate"])
    if "price_included" in changes:
        values["price_included"] = bool(changes["price_included"])
    if "account" in changes:
        values["account"] = _tax_account(company, changes["account"])
    for box in ("base_box", "tax_box"):
        if box in changes:
            values[box] = _box(company, changes[box], box)
    if "is_active" in changes:
        values["is_active"] = bool(changes["is_active"])
    with transaction.atomic():
        locked = TaxCode.objects.select_for_update().get(pk=tax_code.pk)
        before = _snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        after = _snapshot(locked)
        if components is not None:
            after["components"] = [component.code for component in components]
        changed = {k: after[k] for k in after if after[k] != before[k]}
        if "components" in changed:
            # The tax return reads the group's base lines through its components (their order
            # is only shown).
            other_codes = set(changed["components"]) != set(before["components"])
            if other_codes and Line.objects.for_company(company).filter(tax_code=locked).exists():
                raise _invalid(f"Ledger lines are taxed with {locked.code} already, so its components stay: "
                               f"deactivate it and create a new group.", "components", "tax_code.group_in_use")
            _set_components(locked, components or [])
        if changed:
            locked.save()
            action = "changed"
            if set(changed) == {"is_active"}:
                action = "activated" if locked.is_active else "deactivated"
            record(company=company, actor=actor, verb=TAX_CODE_CHANGED.name, subject=locked,
                   data={"action": action, "code": locked.code, "changes": changed})
    return locked


def set_tax_code_active(*, actor, tax_code: TaxCode, is_active: bool, check_permission: bool = True) -> TaxCode:
    """Deactivate (no longer offered, refused by the computation) or reactivate a tax code."""
    return update_tax_code(actor=actor, tax_code=tax_code, is_active=is_active, check_permission=check_permission)


def ensure_default_tax_codes(company: Company) -> list[TaxCode]:
    """Create the standard tax codes and return boxes the company lacks (idempotent; called
    with the chart). A box the company named already keeps its name."""
    named = set(TaxBox.objects.for_company(company).values_list("box", flat=True))
    TaxBox.objects.bulk_create([TaxBox(company=company, box=box, name=name, total_of=total_of)
                                for box, name, total_of in DEFAULT_TAX_BOXES if box not in named])
    existing = set(TaxCode.objects.for_company(company).values_list("code", flat=True))
    missing = [
        TaxCode(company=company, code=code, name=name, kind=kind, rate=Decimal(rate), price_included=included,
                base_box=base_box, tax_box=tax_box)
        for code, (name, kind, rate, included, base_box, tax_box) in DEFAULT_TAX_CODES.items()
        if code not in existing
    ]
    if missing:
        TaxCode.objects.bulk_create(missing)
    return list(TaxCode.objects.for_company(company))


def tax_account_for(tax_code: TaxCode) -> Account | None:
    """The account a code's tax posts to: its own, else the chart's role account of its kind."""
    if tax_code.account_id:
        return tax_code.account
    return (Account.objects.for_company(tax_code.company_id).filter(role=ROLE_OF_KIND[tax_code.kind], is_active=True)
            .order_by("code").first())
