"""Forms of the core's pages. They check shape (lengths, types); the services check rules."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from keel.core.choices import AddressKind, ContactKind, DeliveryStatus, PartyKind, PartyRoleType
from keel.core.models import Currency, Role
from keel.web.forms import DateInput

LOGO_MAX_BYTES = 2 * 1024 * 1024
MONTHS = [(m, m) for m in range(1, 13)]


def currency_choices():
    return [(c.code, f"{c.code} — {c.name}") for c in Currency.objects.filter(is_active=True).order_by("code")]


class CompanyForm(forms.Form):
    legal_name = forms.CharField(max_length=200)
    country = forms.CharField(max_length=2, help_text="Two-letter ISO 3166 code, e.g. GB, DE.")
    base_currency = forms.ChoiceField(choices=())
    fiscal_year_start_month = forms.TypedChoiceField(choices=MONTHS, coerce=int, initial=1)
    registration_number = forms.CharField(max_length=50, required=False)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax ID")
    street = forms.CharField(max_length=200, required=False)
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100, required=False)
    region = forms.CharField(max_length=100, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_currency"].choices = currency_choices()


class CompanyCreateForm(CompanyForm):
    code = forms.SlugField(max_length=32, help_text="Short handle used in URLs, the API and the CLI.")
    field_order = ["code", "legal_name"]


class CompanyEditForm(CompanyForm):
    logo = forms.ImageField(required=False, help_text="PNG, JPEG or GIF, at most 2 MB.")

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError("The logo is larger than 2 MB.")
        return logo


class MemberAddForm(forms.Form):
    email = forms.EmailField(max_length=150)
    role = forms.ChoiceField(choices=())
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False), required=False, max_length=128,
        help_text="Only for a new user. Leave empty to create a login without a password (they reset it).",
    )

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(company)


def role_choices(company):
    return [(r.code, r.name) for r in Role.objects.for_company(company).order_by("name")]


class MembershipEditForm(forms.Form):
    role = forms.ChoiceField(choices=())
    is_active = forms.BooleanField(required=False, label="Active (may log in to this company)")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(company)


class RoleForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple, label="Permissions"
    )
    patterns = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=5000, label="Other patterns",
        help_text="One per line: wildcards such as ledger.*, *.view or * (everything).",
    )

    def __init__(self, *args, catalogue: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = [(code, f"{code} — {text}") for code, text in catalogue.items()]

    def all_patterns(self) -> list[str]:
        extra = [line.strip() for line in self.cleaned_data.get("patterns", "").splitlines() if line.strip()]
        return sorted(set(self.cleaned_data.get("permissions", [])) | set(extra))


class PartyForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=PartyKind.choices, initial=PartyKind.ORGANISATION)
    roles = forms.MultipleChoiceField(choices=PartyRoleType.choices, required=False, widget=forms.CheckboxSelectMultiple)
    tax_id = forms.CharField(max_length=50, required=False, label="Tax ID",
                             help_text="VAT or tax number; checked against the country's rules.")
    tax_country = forms.CharField(max_length=2, required=False, label="Tax country",
                                  help_text="Two-letter code; defaults to your company's country.")
    email = forms.EmailField(max_length=254, required=False)
    phone = forms.CharField(max_length=50, required=False)
    website = forms.URLField(max_length=200, required=False, assume_scheme="https")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)


class PartyCreateForm(PartyForm):
    allow_duplicate = forms.BooleanField(required=False, label="Create anyway: this is not one of the parties above")


class PartyEditForm(PartyForm):
    is_active = forms.BooleanField(required=False, label="Active")


class PartyFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, tax ID or email"}))
    role = forms.ChoiceField(choices=[("", "Any role"), *PartyRoleType.choices], required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *PartyKind.choices], required=False)
    active = forms.ChoiceField(choices=[("yes", "Active"), ("no", "Inactive"), ("all", "All")], required=False)


class AddressForm(forms.Form):
    kind = forms.ChoiceField(choices=AddressKind.choices, initial=AddressKind.MAIN)
    street = forms.CharField(max_length=200)
    postal_code = forms.CharField(max_length=20, required=False)
    city = forms.CharField(max_length=100)
    region = forms.CharField(max_length=100, required=False)
    country = forms.CharField(max_length=2, help_text="Two-letter ISO 3166 code.")


class ContactPointForm(forms.Form):
    kind = forms.ChoiceField(choices=ContactKind.choices)
    value = forms.CharField(max_length=254)
    label = forms.CharField(max_length=100, required=False)


class ExchangeRateForm(forms.Form):
    currency = forms.ChoiceField(choices=())
    date = forms.DateField(widget=DateInput())
    rate = forms.DecimalField(max_digits=20, decimal_places=10, min_value=0,
                              help_text="Base-currency units for one unit of the currency.")
    source = forms.CharField(max_length=50, required=False, initial="manual")

    def __init__(self, *args, base_currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [c for c in currency_choices() if c[0] != base_currency]


class ExchangeRateFilterForm(forms.Form):
    currency = forms.CharField(required=False, max_length=3)


class ActivityFilterForm(forms.Form):
    actor = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None)
    verb = forms.CharField(required=False, max_length=100)
    subject_type = forms.CharField(required=False, max_length=100, label="Record type",
                                   help_text="app.model, e.g. core.party")
    date_from = forms.DateField(required=False, widget=DateInput(), label="From")
    date_to = forms.DateField(required=False, widget=DateInput(), label="To")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.filter(memberships__company=company).order_by("username")
        self.fields["actor"].choices = [("", "Anyone"), *[(u.pk, u.username) for u in users]]


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("problems", "Failed or retrying"), *DeliveryStatus.choices], required=False
    )
