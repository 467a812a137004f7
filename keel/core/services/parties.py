"""Parties: organisations and people with their roles, addresses and contact points."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Q

from keel.core import events
from keel.core.access import require_permission
from keel.core.activity import record
from keel.core.choices import AddressKind, ContactKind, PartyKind, PartyRoleType
from keel.core.exceptions import Conflict, ValidationFailed
from keel.core.identifiers import validate_country, validate_tax_id
from keel.core.locks import hold_company_lock
from keel.core.models import Address, Company, ContactPoint, Party, PartyRole

PARTY_CREATED = events.declare("core.party_created", "A party (customer, supplier, person...) was created")
PARTY_UPDATED = events.declare("core.party_updated", "A party's details or roles changed")
PARTY_ROLE_ADDED = events.declare("core.party_role_added", "A party took on a new role (e.g. became a supplier)")

_LEGAL_FORMS = {
    "ltd", "limited", "plc", "llc", "inc", "incorporated", "corp", "corporation", "co", "company",
    "gmbh", "ag", "kg", "ug", "sa", "sas", "sarl", "bv", "nv", "srl", "spa", "ab", "oy", "as", "aps", "the",
}
SIMILARITY_THRESHOLD = 0.85


def normalize_name(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode().lower()
    text = text.replace(".", "")  # "S.A." is the legal form "sa", not two words
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w and w not in _LEGAL_FORMS]
    return " ".join(words)[:200]


@dataclass(frozen=True)
class DuplicateCandidate:
    party: Party
    reason: str


def find_duplicates(
    *, company: Company, name: str, tax_id: str = "", email: str = "", exclude_id: int | None = None, limit: int = 5
) -> list[DuplicateCandidate]:
    """Parties that look like the same one: same tax ID, same email, or a very similar name."""
    normalized = normalize_name(name)
    base = Party.objects.for_company(company)
    if exclude_id:
        base = base.exclude(pk=exclude_id)
    found: dict[int, DuplicateCandidate] = {}
    exact = Q()
    if tax_id:
        exact |= Q(tax_id__iexact=tax_id)
    if email:
        exact |= Q(email__iexact=email)
    if exact:
        for party in base.filter(exact)[:limit]:
            reason = "same tax ID" if tax_id and party.tax_id.lower() == tax_id.lower() else "same email"
            found[party.pk] = DuplicateCandidate(party, reason)
    if normalized:
        # Candidates share the first three letters: an indexed prefix scan, then a close look.
        candidates = base.filter(normalized_name__startswith=normalized[:3]).only("id", "name", "normalized_name", "company_id")[:500]
        scored = []
        for party in candidates:
            if party.pk in found:
                continue
            ratio = difflib.SequenceMatcher(None, normalized, party.normalized_name).ratio()
            if ratio >= SIMILARITY_THRESHOLD:
                scored.append((ratio, party))
        for ratio, party in sorted(scored, key=lambda item: -item[0]):
            found[party.pk] = DuplicateCandidate(party, "same name" if ratio == 1 else "similar name")
    return list(found.values())[:limit]


def _clean(values: dict, *, company: Company) -> dict:
    cleaned = {}
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            raise ValidationFailed("A party needs a name.", code="party.invalid", field="name")
        if len(name) > 200:
            raise ValidationFailed("The name is longer than 200 characters.", code="party.invalid", field="name")
        cleaned["name"] = name
        cleaned["normalized_name"] = normalize_name(name)
    if "kind" in values:
        if values["kind"] not in PartyKind.values:
            raise ValidationFailed(f"Kind must be one of {', '.join(PartyKind.values)}.", code="party.invalid", field="kind")
        cleaned["kind"] = values["kind"]
    if "tax_country" in values:
        cleaned["tax_country"] = validate_country(values["tax_country"], field="tax_country") if values["tax_country"] else ""
    if "tax_id" in values:
        country = cleaned.get("tax_country", values.get("tax_country") or company.country)
        cleaned["tax_id"] = validate_tax_id(values["tax_id"] or "", country or company.country)
    if "email" in values:
        email = (values["email"] or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except DjangoValidationError:
                raise ValidationFailed(f"'{email}' is not a valid email address.", code="party.invalid", field="email")
        cleaned["email"] = email
    if "website" in values:
        website = (values["website"] or "").strip()
        if website:
            try:
                URLValidator()(website)
            except DjangoValidationError:
                raise ValidationFailed(f"'{website}' is not a valid web address.", code="party.invalid", field="website")
        cleaned["website"] = website
    for name, limit in (("phone", 50), ("notes", 5000)):
        if name in values:
            text = (values[name] or "").strip()
            if len(text) > limit:
                raise ValidationFailed(f"{name.capitalize()} is longer than {limit} characters.", code="party.invalid", field=name)
            cleaned[name] = text
    if "is_active" in values:
        cleaned["is_active"] = bool(values["is_active"])
    return cleaned


def _clean_roles(roles) -> list[str]:
    roles = sorted(set(roles or []))
    bad = [r for r in roles if r not in PartyRoleType.values]
    if bad:
        raise ValidationFailed(
            f"Unknown role(s) {', '.join(bad)}; use {', '.join(PartyRoleType.values)}.", code="party.invalid", field="roles"
        )
    return roles


def create_party(
    *,
    actor,
    company: Company,
    name: str,
    kind: str = PartyKind.ORGANISATION,
    roles: list[str] | None = None,
    tax_id: str = "",
    tax_country: str = "",
    email: str = "",
    phone: str = "",
    website: str = "",
    notes: str = "",
    addresses: list[dict] | None = None,
    allow_duplicate: bool = False,
) -> Party:
    """Create a party; refuse with `party.possible_duplicate` (listing them) unless allowed."""
    require_permission(actor, company, "party.manage")
    values = _clean(
        {"name": name, "kind": kind, "tax_country": tax_country, "tax_id": tax_id, "email": email,
         "phone": phone, "website": website, "notes": notes},
        company=company,
    )
    role_codes = _clean_roles(roles)
    cleaned_addresses = [_clean_address(a) for a in addresses or []]
    with transaction.atomic():
        # Two requests creating the same party at once: the second waits here, then finds the first's.
        hold_company_lock(company.pk, "core.party_create")
        if not allow_duplicate:
            duplicates = find_duplicates(company=company, name=values["name"], tax_id=values["tax_id"],
                                         email=values["email"])
            if duplicates:
                raise Conflict(
                    f"This looks like an existing party: {duplicates[0].party.name} ({duplicates[0].reason}).",
                    code="party.possible_duplicate",
                    extra={"duplicates": [{"id": d.party.pk, "name": d.party.name, "reason": d.reason}
                                          for d in duplicates]},
                )
        party = Party.objects.create(company=company, **values)
        PartyRole.objects.bulk_create([PartyRole(company=company, party=party, role=r) for r in role_codes])
        Address.objects.bulk_create([Address(company=company, party=party, **a) for a in cleaned_addresses])
        record(company=company, actor=actor, verb=PARTY_CREATED.name, subject=party,
               data={"name": party.name, "kind": party.kind, "roles": role_codes, "tax_id": party.tax_id})
    return party


def update_party(*, actor, party: Party, roles: list[str] | None = None, **changes) -> Party:
    company = party.company
    require_permission(actor, company, "party.manage")
    allowed = {"name", "kind", "tax_id", "tax_country", "email", "phone", "website", "notes", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="party.invalid")
    if "tax_id" in changes and "tax_country" not in changes:
        changes["tax_country"] = party.tax_country
    values = _clean(changes, company=company)
    role_codes = _clean_roles(roles) if roles is not None else None
    with transaction.atomic():
        locked = Party.objects.select_for_update().get(pk=party.pk)
        diff = {}
        for name, value in values.items():
            if name != "normalized_name" and getattr(locked, name) != value:
                diff[name] = [getattr(locked, name), value]
            setattr(locked, name, value)
        locked.save()
        if role_codes is not None:
            current = set(PartyRole.objects.filter(party=locked).values_list("role", flat=True))
            added, removed = set(role_codes) - current, current - set(role_codes)
            PartyRole.objects.filter(party=locked, role__in=removed).delete()
            PartyRole.objects.bulk_create([PartyRole(company=company, party=locked, role=r) for r in sorted(added)])
            if added or removed:
                diff["roles"] = [sorted(current), role_codes]
            for role in sorted(added):
                record(company=company, actor=actor, verb=PARTY_ROLE_ADDED.name, subject=locked, data={"role": role})
        if diff:
            record(company=company, actor=actor, verb=PARTY_UPDATED.name, subject=locked, data={"changed": diff})
    return locked


def _clean_address(values: dict) -> dict:
    street = (values.get("street") or "").strip()
    city = (values.get("city") or "").strip()
    if not street:
        raise ValidationFailed("An address needs a street.", code="address.invalid", field="street")
    if not city:
        raise ValidationFailed("An address needs a city.", code="address.invalid", field="city")
    kind = values.get("kind") or AddressKind.MAIN
    if kind not in AddressKind.values:
        raise ValidationFailed(f"Address kind must be one of {', '.join(AddressKind.values)}.", code="address.invalid", field="kind")
    return {
        "kind": kind, "street": street[:200], "city": city[:100],
        "postal_code": (values.get("postal_code") or "").strip()[:20],
        "region": (values.get("region") or "").strip()[:100],
        "country": validate_country(values.get("country") or "", field="country"),
    }


def add_address(*, actor, party: Party, **values) -> Address:
    require_permission(actor, party.company, "party.manage")
    cleaned = _clean_address(values)
    with transaction.atomic():
        address = Address.objects.create(company=party.company, party=party, **cleaned)
        record(company=party.company, actor=actor, verb=PARTY_UPDATED.name, subject=party,
               data={"address_added": str(address)})
    return address


def add_contact_point(*, actor, party: Party, kind: str, value: str, label: str = "") -> ContactPoint:
    require_permission(actor, party.company, "party.manage")
    if kind not in ContactKind.values:
        raise ValidationFailed(f"Contact kind must be one of {', '.join(ContactKind.values)}.", code="contact.invalid", field="kind")
    value = (value or "").strip()
    if not value or len(value) > 254:
        raise ValidationFailed("A contact point needs a value of at most 254 characters.", code="contact.invalid", field="value")
    if kind == ContactKind.EMAIL:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationFailed(f"'{value}' is not a valid email address.", code="contact.invalid", field="value")
    with transaction.atomic():
        point = ContactPoint.objects.create(company=party.company, party=party, kind=kind, value=value, label=label[:100])
        record(company=party.company, actor=actor, verb=PARTY_UPDATED.name, subject=party,
               data={"contact_added": f"{kind}: {value}"})
    return point
