"""Members of the active company, their roles, and the roles' permissions."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from keel.core.access import get_visible, has_permission
from keel.core.forms import MemberAddForm, MembershipEditForm, RoleForm
from keel.core.models import Membership, Role
from keel.core.permissions import catalogue
from keel.core.services.memberships import add_member, change_membership, set_role_permissions
from keel.web.decorators import company_page
from keel.web.forms import run, submit

DOCUMENT = "core.membership"
ROLE_DOCUMENT = "core.role"


def _membership(request, pk: int, permission: str) -> Membership:
    return get_visible(
        Membership.objects.select_related("user", "role", "company"), request.user, permission,
        company=request.company, pk=pk,
    )


@company_page("membership.view", methods=["GET"])
def membership_list(request):
    rows = (
        Membership.objects.for_company(request.company).select_related("user", "role")
        .order_by("-is_active", "user__username")
    )
    return render(request, "core/membership_list.html", {
        "memberships": rows, "can_manage": has_permission(request.user, request.company, "membership.manage"),
    })


@company_page("membership.manage")
def membership_create(request):
    form = MemberAddForm(company=request.company, initial={"role": "employee"})
    if request.method == "POST":
        form = MemberAddForm(request.POST, company=request.company)
        outcome = submit(
            form, company=request.company, document_type=DOCUMENT,
            call=lambda data: add_member(
                actor=request.user, company=request.company, email=data["email"], role=data["role"],
                password=data["password"] or None, first_name=data["first_name"], last_name=data["last_name"],
            ),
        )
        if outcome.ok:
            messages.success(request, f"{outcome.result.user.username} is now a member as {outcome.result.role.name}.")
            return redirect("core:membership_detail", pk=outcome.result.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": "Add a member", "submit_label": "Add member", "cancel_url": reverse("core:membership_list"),
    })


@company_page("membership.view", methods=["GET"])
def membership_detail(request, pk: int):
    membership = _membership(request, pk, "membership.view")
    form = MembershipEditForm(company=request.company, initial={"role": membership.role.code, "is_active": membership.is_active})
    return render(request, "core/membership_detail.html", {
        "membership": membership, "form": form,
        "can_manage": has_permission(request.user, request.company, "membership.manage"),
    })


@company_page("membership.manage")
def membership_edit(request, pk: int):
    membership = _membership(request, pk, "membership.manage")
    initial = {"role": membership.role.code, "is_active": membership.is_active}
    form = MembershipEditForm(company=request.company, initial=initial)
    if request.method == "POST":
        form = MembershipEditForm(request.POST, company=request.company, initial=initial)
        outcome = submit(
            form, company=request.company, document_type=DOCUMENT,
            call=lambda data: change_membership(
                actor=request.user, membership=membership, role=data["role"], is_active=data["is_active"]
            ),
        )
        if outcome.ok:
            messages.success(request, f"{membership.user.username}'s membership was updated.")
            return redirect("core:membership_detail", pk=membership.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Change {membership.user.username}'s membership", "submit_label": "Save",
        "cancel_url": reverse("core:membership_detail", kwargs={"pk": membership.pk}),
    })


@company_page("membership.manage", methods=["POST"])
def membership_deactivate(request, pk: int):
    membership = _membership(request, pk, "membership.manage")
    outcome = run(request.company, DOCUMENT,
                  lambda: change_membership(actor=request.user, membership=membership, is_active=False))
    if outcome.ok:
        messages.success(request, f"{membership.user.username} can no longer work in {request.company.code}.")
    else:
        messages.error(request, outcome.error.message)
    return redirect("core:membership_list")


@company_page("membership.view", methods=["GET"])
def role_list(request):
    rows = Role.objects.for_company(request.company).order_by("name")
    return render(request, "core/role_list.html", {
        "roles": rows, "can_manage": has_permission(request.user, request.company, "membership.manage"),
    })


@company_page("membership.view", methods=["GET"])
def role_detail(request, pk: int):
    role = get_visible(Role.objects.all(), request.user, "membership.view", company=request.company, pk=pk)
    known = catalogue()
    granted = [(code, text) for code, text in known.items() if role.allows(code)]
    return render(request, "core/role_detail.html", {
        "role": role, "granted": granted,
        "can_manage": has_permission(request.user, request.company, "membership.manage"),
    })


@company_page("membership.manage")
def role_edit(request, pk: int):
    role = get_visible(Role.objects.all(), request.user, "membership.manage", company=request.company, pk=pk)
    known = catalogue()
    initial = {
        "name": role.name,
        "permissions": [p for p in role.permissions if p in known],
        "patterns": "\n".join(p for p in role.permissions if p not in known),
    }
    form = RoleForm(catalogue=known, initial=initial)
    if request.method == "POST":
        form = RoleForm(request.POST, catalogue=known, initial=initial)
        outcome = submit(
            form, company=request.company, document_type=ROLE_DOCUMENT,
            call=lambda data: set_role_permissions(
                actor=request.user, role=role, permissions=form.all_patterns(), name=data["name"]
            ),
        )
        if outcome.ok:
            messages.success(request, f"Role '{outcome.result.name}' saved.")
            return redirect("core:role_detail", pk=role.pk)
    return render(request, "web/form_page.html", {
        "form": form, "title": f"Edit role: {role.name}", "submit_label": "Save role",
        "cancel_url": reverse("core:role_detail", kwargs={"pk": role.pk}),
    })
