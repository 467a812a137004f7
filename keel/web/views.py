"""The web's own pages: log in and out, password, company switcher, personal API tokens, and the
searches behind the search-select fields (keel.web.search_select)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import resolve, reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme

from keel.api.models import ApiToken
from keel.api.tokens import create_token, revoke_token
from keel.core.access import memberships
from keel.core.exceptions import KeelError
from keel.core.middleware import SESSION_KEY
from keel.core.records import parse_id
from keel.core.selectors import suggest_parties
from keel.web.auth import wait_before_next_try
from keel.web.decorators import company_page, user_page
from keel.web.forms import apply_error
from keel.web.search_select import SEARCH_LIMIT


def safe_next(request, default: str) -> str:
    """The `next` the form carries when it points into this site; `default` otherwise."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class SignInForm(AuthenticationForm):
    """Django's sign-in form, asking for the email (every login is one) and refusing tries
    that come faster than the throttle allows (keel.web.auth) before checking the password."""

    username = UsernameField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or the password is not right. Both are checked as typed, except the email's case.",
    }

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip().lower()
        self.cleaned_data["username"] = username
        if username and self.request is not None:
            wait = wait_before_next_try(self.request, username)
            if wait:
                raise ValidationError(
                    f"Too many failed sign-ins for this account or from this address: wait {wait} "
                    f"second{'s' if wait != 1 else ''} before trying again.",
                    code="login.throttled",
                )
        return super().clean()


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True
    authentication_form = SignInForm


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for the email and sends a one-time link (mail backend: the console by default).

    Answers the same whether or not the email has an account, so the page does not tell
    who has one."""

    # Under web/: the admin's registration/password_reset_* templates come first otherwise.
    template_name = "web/password_reset/form.html"
    success_url = reverse_lazy("web:password_reset_done")
    email_template_name = "web/password_reset/email.txt"
    subject_template_name = "web/password_reset/subject.txt"


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset/done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset/confirm.html"
    success_url = reverse_lazy("web:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset/complete.html"


class LogoutView(auth_views.LogoutView):
    http_method_names = ["post", "options"]


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("web:password_change_done")


@user_page(methods=["POST"])
def company_switch(request):
    """Make another of the user's companies the active one (kept in the session)."""
    raw = request.POST.get("company", "")
    mine = memberships(request.user)
    company_id = parse_id(raw)
    if company_id not in mine:
        messages.error(request, "You do not belong to that company.")
        return redirect("web:dashboard")
    request.session[SESSION_KEY] = company_id
    messages.success(request, f"You are now working in {mine[company_id].company.legal_name}.")
    return redirect(_list_page_of(safe_next(request, reverse("web:dashboard"))))


def _list_page_of(target: str) -> str:
    """The page to show after a switch: a record page of the previous company would be a
    404 in the new one, so '/parties/42/edit/' becomes '/parties/'."""
    path = target.split("?", 1)[0]
    kept = []
    for segment in path.strip("/").split("/"):
        if parse_id(segment) is not None:
            break
        kept.append(segment)
    candidate = "/" + "/".join(s for s in kept if s) + ("/" if any(kept) else "")
    try:
        resolve(candidate)
    except Http404:
        return reverse("web:dashboard")
    return candidate


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'accounting export'.")


@user_page()
def apitoken_list(request):
    form = ApiTokenForm()
    new_key = None
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                token, new_key = create_token(user=request.user, name=form.cleaned_data["name"])
            except KeelError as exc:
                apply_error(form, exc)
            else:
                messages.success(request, f"Token '{token.name}' created. Copy the key now: it is not shown again.")
                form = ApiTokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    return render(request, "web/apitoken_list.html", {"tokens": tokens, "form": form, "new_key": new_key})


@user_page(methods=["POST"])
def apitoken_revoke(request, pk: int):
    token = revoke_token(user=request.user, token_id=pk)
    messages.success(request, f"Token '{token.name}' revoked.")
    return redirect("web:apitoken_list")


@company_page("party.view", methods=["GET"])
def party_search(request):
    """The options of a party search-select: the active company's active parties whose name,
    tax ID or email contains `q`, names starting with it first, at most SEARCH_LIMIT."""
    text = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    rows = suggest_parties(request.company, text, limit=SEARCH_LIMIT)
    return render(request, "web/partials/search_select_options.html", {
        "options": [{"value": party.pk, "label": party.name, "detail": party.tax_id} for party in rows[:SEARCH_LIMIT]],
        "query": text, "more": len(rows) > SEARCH_LIMIT,
        "empty_text": f"No active party matches '{text}'.",
        "more_text": f"More than {SEARCH_LIMIT} parties match: type more of the name.",
    })
