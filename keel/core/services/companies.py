"""Companies: creation (with roles, numbering and an owner) and settings."""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from keel.core import events
from keel.core.access import forget, require_permission
from keel.core.activity import record
from keel.core.exceptions import Conflict, PermissionDenied, ValidationFailed
from keel.core.identifiers import validate_country, validate_registration_number, validate_tax_id
from keel.core.models import Company, Currency, Membership, Role
from keel.core.numbering import ensure_default_sequences
from keel.core.permissions import DEFAULT_ROLES

COMPANY_CREATED = events.declare("core.company_created", "A company was set up in Keel")
COMPANY_UPDATED = events.declare("core.company_updated", "A company's settings changed")

# What the books depend on: an amount posted in EUR stays EUR, a fiscal year keeps its months.
BOOKS_SETTINGS = ("base_currency", "fiscal_year_start_month")
_books_started_checks: list[Callable[[Company], str | None]] = []


def register_books_started_check(check: Callable[[Company], str | None]) -> None:
    """Let an app say that a company's books have started: `check(company)` returns why
    ("FY2026 exists") or None. Core does not know the ledger; the ledger registers its check
    in its AppConfig.ready(). Once any check answers, BOOKS_SETTINGS no longer change."""
    if check not in _books_started_checks:
        _books_started_checks.append(check)


def books_started(company: Company) -> str | None:
    """Why the company's books have started (the first registered check that says so), or None."""
    for check in _books_started_checks:
        reason = check(company)
        if reason:
            return reason
    return None


_EDITABLE = (
    "legal_name", "country", "base_currency", "fiscal_year_start_month", "registration_number",
    "tax_id", "street", "postal_code", "city", "region",
)


def _clean(values: dict) -> dict:
    cleaned = dict(values)
    if "legal_name" in cleaned:
        cleaned["legal_name"] = (cleaned["legal_name"] or "").strip()
        if not cleaned["legal_name"]:
            raise ValidationFailed("A company needs a legal name.", code="company.invalid", field="legal_name")
        if len(cleaned["legal_name"]) > 200:
            raise ValidationFailed("The legal name is longer than 200 characters.", code="company.invalid", field="legal_name")
    if "country" in cleaned:
        cleaned["country"] = validate_country(cleaned["country"])
    if "base_currency" in cleaned:
        code = str(cleaned["base_currency"] or "").strip().upper()
        currency = Currency.objects.filter(code=code, is_active=True).first()
        if currency is None:
            raise ValidationFailed(f"'{code}' is not a known currency.", code="currency.unknown", field="base_currency")
        cleaned["base_currency"] = currency
    if "fiscal_year_start_month" in cleaned:
        month = cleaned["fiscal_year_start_month"]
        if not isinstance(month, int) or not 1 <= month <= 12:
            raise ValidationFailed("The fiscal year starts in a month from 1 to 12.", code="company.invalid", field="fiscal_year_start_month")
    return cleaned


def create_default_roles(company: Company) -> dict[str, Role]:
    roles = [
        Role(company=company, code=code, name=name, description=description, permissions=list(perms), is_system=True)
        for code, (name, description, perms) in DEFAULT_ROLES.items()
    ]
    Role.objects.bulk_create(roles)
    return {r.code: r for r in Role.objects.for_company(company)}


def create_company(
    *,
    actor,
    code: str,
    legal_name: str,
    country: str,
    base_currency: str,
    fiscal_year_start_month: int = 1,
    registration_number: str = "",
    tax_id: str = "",
    street: str = "",
    postal_code: str = "",
    city: str = "",
    region: str = "",
    owner=None,
) -> Company:
    """Set up a company: its roles, number sequences, and `owner` (default: the actor) as owner."""
    if actor is not None and not (actor.is_superuser or actor.is_staff):
        raise PermissionDenied("Only Keel administrators (staff) can create companies.", code="company.create_denied")
    values = _clean(
        {"legal_name": legal_name, "country": country, "base_currency": base_currency,
         "fiscal_year_start_month": fiscal_year_start_month}
    )
    code = slugify(code or "")[:32]
    if not code:
        raise ValidationFailed("A company needs a short code (letters, digits, dashes).", code="company.invalid", field="code")
    values["tax_id"] = validate_tax_id(tax_id, values["country"])
    values["registration_number"] = validate_registration_number(registration_number, values["country"])
    try:
        with transaction.atomic():
            company = Company.objects.create(
                code=code, street=street, postal_code=postal_code, city=city, region=region, **values
            )
            roles = create_default_roles(company)
            ensure_default_sequences(company)
            owner = owner or actor
            if owner is not None:
                Membership.objects.create(company=company, user=owner, role=roles["owner"])
                forget(owner)
            record(company=company, actor=actor, verb=COMPANY_CREATED.name, subject=company,
                   data={"code": company.code, "country": company.country, "base_currency": company.base_currency_id})
    except IntegrityError:
        raise Conflict(f"A company with the code '{code}' already exists.", code="company.duplicate_code", field="code")
    return company


def _refuse_books_changes(company: Company, values: dict) -> None:
    """Refuse a new base currency or fiscal-year start once the books have started: amounts
    stored in the old currency would be read in the new one, and fiscal years in the old
    months would no longer match the company's."""
    changing = [name for name in BOOKS_SETTINGS if name in values
                and getattr(company, name + ("_id" if name == "base_currency" else "")) !=
                (values[name].pk if name == "base_currency" else values[name])]
    if not changing:
        return
    reason = books_started(company)
    if reason:
        label = {"base_currency": "base currency", "fiscal_year_start_month": "fiscal-year start month"}[changing[0]]
        raise ValidationFailed(
            f"The {label} cannot change once the books have started ({reason}).",
            code="company.books_started", field=changing[0], extra={"reason": reason},
        )


def update_company(*, actor, company: Company, **changes) -> Company:
    """Change a company's settings. The base currency and the fiscal-year start month are
    refused once its books have started (`company.books_started`)."""
    require_permission(actor, company, "company.manage")
    unknown = set(changes) - set(_EDITABLE) - {"logo"}
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="company.invalid")
    values = _clean(changes)
    country = values.get("country", company.country)
    if "tax_id" in values or "country" in values:
        values["tax_id"] = validate_tax_id(values.get("tax_id", company.tax_id), country)
    if "registration_number" in values or "country" in values:
        values["registration_number"] = validate_registration_number(
            values.get("registration_number", company.registration_number), country
        )
    with transaction.atomic():
        locked = Company.objects.select_for_update().get(pk=company.pk)
        _refuse_books_changes(locked, values)
        before = {k: str(getattr(locked, k + ("_id" if k == "base_currency" else ""))) for k in values if k != "logo"}
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save()
        after = {k: str(getattr(locked, k + ("_id" if k == "base_currency" else ""))) for k in values if k != "logo"}
        changed = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
        if changed or "logo" in values:
            record(company=locked, actor=actor, verb=COMPANY_UPDATED.name, subject=locked, data={"changed": changed})
    return locked
