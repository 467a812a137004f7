"""Users, memberships and roles of a company."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from keel.core import events
from keel.core.access import forget, require_permission
from keel.core.activity import record
from keel.core.exceptions import Conflict, NotFound, ValidationFailed
from keel.core.models import Company, Membership, Role

MEMBER_ADDED = events.declare("core.member_added", "A user was given a role in a company")
MEMBER_CHANGED = events.declare("core.member_changed", "A user's role or access in a company changed")
ROLE_CHANGED = events.declare("core.role_changed", "A role's permissions were adjusted")

_PATTERN = re.compile(r"^(\*|[a-z_*]+\.[a-z_*]+)$")


def _role(company: Company, role: Role | str) -> Role:
    if isinstance(role, Role):
        if role.company_id != company.pk:
            raise NotFound("No such role.", code="role.not_found", field="role")
        return role
    found = Role.objects.for_company(company).filter(code=role).first()
    if found is None:
        raise ValidationFailed(f"No role '{role}' in this company.", code="role.not_found", field="role")
    return found


def _owners(company: Company) -> int:
    return Membership.objects.for_company(company).filter(role__code="owner", is_active=True).count()


def create_user(*, email: str, password: str | None, first_name: str = "", last_name: str = "", is_staff: bool = False):
    """A login: username is the email address."""
    User = get_user_model()
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"'{email}' is not a valid email address.", code="user.invalid", field="email")
    if User.objects.filter(username=email).exists():
        raise Conflict(f"A user '{email}' already exists.", code="user.exists", field="email")
    if password:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), code="user.weak_password", field="password")
    user = User(username=email, email=email, first_name=first_name[:150], last_name=last_name[:150], is_staff=is_staff)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def add_member(
    *, actor, company: Company, email: str, role: Role | str, password: str | None = None,
    first_name: str = "", last_name: str = "", check_permission: bool = True,
) -> Membership:
    """Give a user (created if new) a role in the company.

    `check_permission=False` is for the operator's own doors (the `keel createuser` command,
    run by whoever administers the installation), where `actor` may be None: the system.
    """
    if check_permission:
        require_permission(actor, company, "membership.manage")
    User = get_user_model()
    with transaction.atomic():
        role_obj = _role(company, role)
        user = User.objects.filter(username=(email or "").strip().lower()).first()
        if user is None:
            user = create_user(email=email, password=password, first_name=first_name, last_name=last_name)
        try:
            with transaction.atomic():
                membership = Membership.objects.create(company=company, user=user, role=role_obj)
        except IntegrityError:
            raise Conflict(f"{user.username} is already a member of {company.code}.", code="membership.exists", field="email")
        record(company=company, actor=actor, verb=MEMBER_ADDED.name, subject=membership,
               subject_repr=f"{user.username} as {role_obj.name}", data={"user": user.username, "role": role_obj.code})
    forget(user)
    return membership


def change_membership(*, actor, membership: Membership, role: Role | str | None = None, is_active: bool | None = None) -> Membership:
    company = membership.company
    require_permission(actor, company, "membership.manage")
    with transaction.atomic():
        locked = Membership.objects.select_for_update().select_related("role", "user").get(pk=membership.pk)
        changes: dict[str, list[str]] = {}
        if role is not None:
            new_role = _role(company, role)
            if locked.role.code == "owner" and new_role.code != "owner" and locked.is_active and _owners(company) <= 1:
                raise Conflict("A company keeps at least one owner.", code="membership.last_owner", field="role")
            changes["role"] = [locked.role.code, new_role.code]
            locked.role = new_role
        if is_active is not None and is_active != locked.is_active:
            if not is_active and locked.role.code == "owner" and _owners(company) <= 1:
                raise Conflict("A company keeps at least one owner.", code="membership.last_owner", field="is_active")
            changes["is_active"] = [str(locked.is_active), str(is_active)]
            locked.is_active = is_active
        if changes:
            locked.save()
            record(company=company, actor=actor, verb=MEMBER_CHANGED.name, subject=locked,
                   subject_repr=locked.user.username, data=changes)
    forget(locked.user)
    return locked


def set_role_permissions(*, actor, role: Role, permissions: list[str], name: str | None = None) -> Role:
    require_permission(actor, role.company, "membership.manage")
    cleaned = sorted({p.strip() for p in permissions if p and p.strip()})
    bad = [p for p in cleaned if not _PATTERN.match(p)]
    if bad:
        raise ValidationFailed(
            f"Not a permission pattern: {', '.join(bad)} (use area.action, area.* or *.view).",
            code="role.invalid_permission", field="permissions",
        )
    with transaction.atomic():
        locked = Role.objects.select_for_update().get(pk=role.pk)
        before = list(locked.permissions)
        locked.permissions = cleaned
        if name:
            locked.name = name.strip()[:100]
        locked.save()
        record(company=locked.company, actor=actor, verb=ROLE_CHANGED.name, subject=locked,
               data={"before": before, "after": cleaned})
    return locked
