from __future__ import annotations

from django.db import models

from keel.core.choices import AddressKind, ContactKind, PartyKind, PartyRoleType
from keel.core.models.base import CompanyOwned


class Party(CompanyOwned):
    """One organisation or person the company deals with, whatever roles it plays."""

    view_permission = "party.view"

    kind = models.CharField(max_length=20, choices=PartyKind.choices, default=PartyKind.ORGANISATION)
    name = models.CharField(max_length=200)
    # Lower-cased, accents and legal-form words removed: what duplicate detection compares.
    normalized_name = models.CharField(max_length=200, editable=False, db_index=False)
    tax_id = models.CharField(max_length=50, blank=True)
    tax_country = models.CharField(max_length=2, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=200, blank=True)
    notes = models.TextField(blank=True, max_length=5000)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "parties"
        indexes = [
            models.Index(fields=["company", "name", "id"], name="core_party_name"),
            models.Index(fields=["company", "normalized_name"], name="core_party_normalized"),
            models.Index(fields=["company", "tax_id"], name="core_party_tax_id"),
            models.Index(fields=["company", "email"], name="core_party_email"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def role_codes(self) -> list[str]:
        return sorted(r.role for r in self.roles.all())


class PartyRole(CompanyOwned):
    """A role a party plays for the company (customer, supplier, employee, ...)."""

    view_permission = "party.view"

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=PartyRoleType.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "party", "role"], name="core_party_role_unique")]
        indexes = [models.Index(fields=["company", "role", "party"], name="core_party_role_lookup")]

    def __str__(self) -> str:
        return f"{self.party_id}:{self.role}"


class Address(CompanyOwned):
    """A postal address of a party."""

    view_permission = "party.view"

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="addresses")
    kind = models.CharField(max_length=20, choices=AddressKind.choices, default=AddressKind.MAIN)
    street = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2)

    class Meta:
        verbose_name_plural = "addresses"
        ordering = ["party_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}, {self.country}"


class ContactPoint(CompanyOwned):
    """A further way to reach a party (a second email, a mobile number, a website)."""

    view_permission = "party.view"

    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=20, choices=ContactKind.choices)
    value = models.CharField(max_length=254)
    label = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["party_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"
