from __future__ import annotations

from fnmatch import fnmatchcase

from django.conf import settings
from django.db import models

from keel.core.models.base import CompanyOwned


class Role(CompanyOwned):
    """A named set of permissions in one company; administrators adjust it as data.

    Permissions are patterns such as `party.view`, `ledger.*` or `*.view`.
    """

    view_permission = "membership.view"

    code = models.SlugField(max_length=50)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    permissions = models.JSONField(default=list, blank=True)
    is_system = models.BooleanField(default=False, help_text="Shipped with Keel; can be adjusted, not deleted.")

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["company", "code"], name="core_role_code_unique")]

    def __str__(self) -> str:
        return self.name

    def allows(self, permission: str) -> bool:
        return any(fnmatchcase(permission, pattern) for pattern in self.permissions)


class Membership(CompanyOwned):
    """A user's place in a company: the role decides what they may do there."""

    view_permission = "membership.view"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_id", "user_id"]
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="core_membership_unique")]
        indexes = [models.Index(fields=["user", "is_active"], name="core_membership_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.company_id} as {self.role}"
