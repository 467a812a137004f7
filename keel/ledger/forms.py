"""Forms of the books pages: accounts, cost centres, journals, periods, entries and filters.

Forms only parse; the services decide (their refusals land on the named field through
keel.web.forms.submit).
"""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy

from keel.core.models import Currency
from keel.ledger.choices import AccountRole, AccountType, CashFlowCategory, EntryStatus, JournalKind
from keel.ledger.models import Account, AccountGroup, CostCentre, Journal, TaxCode
from keel.web.forms import AmountField, DateInput
from keel.web.search_select import PartySearchField, RecordLookup, SearchSelectField, party_lookup

CSV_MAX_BYTES = 20 * 1024 * 1024


def _group_choices(company) -> list[tuple[str, str]]:
    return [("", "—")] + [(g.pk, str(g)) for g in AccountGroup.objects.for_company(company)]


GROUP_CASH_FLOW_CHOICES = [("", "As the parent group"), *CashFlowCategory.choices]
ACCOUNT_CASH_FLOW_CHOICES = [("", "As its group"), *CashFlowCategory.choices]


class AccountFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    account_type = forms.ChoiceField(choices=[("", "All types"), *AccountType.choices], required=False, label="Type")
    active = forms.ChoiceField(choices=[("yes", "Active"), ("no", "Inactive"), ("all", "All")], required=False,
                               label="Status")


class AccountForm(forms.Form):
    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=200)
    account_type = forms.ChoiceField(choices=AccountType.choices, label="Type")
    role = forms.ChoiceField(choices=AccountRole.choices, required=False)
    group = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None)
    currency = forms.ChoiceField(choices=(), required=False, help_text="Only lines in this currency (empty: any).")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False)
    cash_flow = forms.ChoiceField(
        choices=ACCOUNT_CASH_FLOW_CHOICES, required=False, label="Cash-flow section",
        help_text="Only when this account differs from its group, e.g. accumulated depreciation among fixed assets.")

    def __init__(self, *args, company, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = _group_choices(company)
        self.fields["currency"].choices = [("", "Any")] + [
            (c, c) for c in Currency.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)]
        if editing:  # lines were booked under the code, type and currency: they stay
            for name in ("code", "account_type", "currency"):
                self.fields[name].disabled = True
                self.fields[name].required = False


class AccountGroupForm(forms.Form):
    name = forms.CharField(max_length=200)
    cash_flow = forms.ChoiceField(
        choices=GROUP_CASH_FLOW_CHOICES, required=False, label="Cash-flow section",
        help_text="Where the movements of the group's accounts go in the cash-flow statement; a top-level "
                  "group left as its parent is operating.")


class ChartImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns kind,code,name,type,role,parent and optionally cash_flow "
                                     "(as the export).")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > CSV_MAX_BYTES:
            raise forms.ValidationError("The file is larger than 20 MB.")
        return upload


class EntryImportForm(ChartImportForm):
    file = forms.FileField(help_text="CSV (comma, semicolon or tab separated, UTF-8) with the columns "
                                     "entry,date,journal,account,label,debit,credit and optionally the others below.")
    dry_run = forms.BooleanField(required=False, label="Only check the file (write nothing)")
    accept_repeat = forms.BooleanField(required=False, label="This file was imported before: import it again",
                                       help_text="Tick only when its entries are new (a file imported twice is "
                                                 "refused otherwise).")


class CostCentreForm(forms.Form):
    code = forms.CharField(max_length=20)
    name = forms.CharField(max_length=200)


class JournalForm(forms.Form):
    code = forms.CharField(max_length=10)
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=JournalKind.choices)


class FiscalYearForm(forms.Form):
    year = forms.IntegerField(min_value=1900, max_value=2999, label="Fiscal year",
                              help_text="The calendar year the fiscal year starts in.")


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class EntryFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Number or reference")
    journal = forms.ChoiceField(choices=(), required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *EntryStatus.choices], required=False)
    date_from = forms.DateField(required=False, widget=DateInput(), label="From")
    date_to = forms.DateField(required=False, widget=DateInput(), label="To")
    account = forms.CharField(required=False, max_length=20, label="Account code")

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journal"].choices = [("", "All journals")] + [
            (j.code, str(j)) for j in Journal.objects.for_company(company)]


class EntryForm(forms.Form):
    journal = forms.TypedChoiceField(choices=(), coerce=int)
    date = forms.DateField(widget=DateInput())
    reference = forms.CharField(max_length=100, required=False)
    description = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["journal"].choices = [(j.pk, str(j)) for j in Journal.objects.for_company(company).filter(is_active=True)]


class AccountSearchField(SearchSelectField):
    """An account of the active company, found by code or name (ledger:account_search)."""

    default_error_messages = {"invalid_choice": "That account is not in this company's chart: search and choose one."}

    def __init__(self, **kwargs):
        kwargs.setdefault("search_url", reverse_lazy("ledger:account_search"))
        kwargs.setdefault("what", "an account")
        kwargs.setdefault("placeholder", "Code or name")
        super().__init__(**kwargs)


def account_label(account: Account) -> str:
    return f"{account.code} {account.name}"


def account_lookup(company) -> RecordLookup:
    """The accounts an entry line may name: any of the company's (posting refuses an inactive
    one with its own message, which a missing choice would hide)."""
    return RecordLookup(Account.objects.for_company(company).only("pk", "code", "name", "company_id"),
                        label=account_label)


class LineForm(forms.Form):
    # Searched as one types, like the party: a chart may have hundreds of accounts and each
    # row listing them all made the page heavy.
    account = AccountSearchField(required=False)
    label = forms.CharField(max_length=200, required=False)
    debit = AmountField(min_value=0, required=False)
    credit = AmountField(min_value=0, required=False)
    currency = forms.CharField(max_length=3, required=False, help_text="Empty: the company's currency.")
    amount_currency = AmountField(required=False, label="Amount in currency")
    party = PartySearchField(required=False)  # searched as one types: a company may have 50,000 parties
    tax_code = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None, label="Tax")
    cost_centre = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None)
    due_date = forms.DateField(required=False, widget=DateInput())

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, values in choices.items():
            if isinstance(values, RecordLookup):
                self.fields[name].lookup = values
            else:
                self.fields[name].choices = values

    @property
    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return not data.get("account") and not data.get("debit") and not data.get("credit")

    def as_line(self) -> dict:
        data = self.cleaned_data
        line = {"account": data["account"].pk, "label": data.get("label") or "", "debit": data.get("debit"),
                "credit": data.get("credit")}
        for name in ("party", "tax_code", "cost_centre", "due_date", "amount_currency"):
            if data.get(name) is not None:
                line[name] = data[name]
        if data.get("currency"):
            line["currency"] = data["currency"].upper()
        return line


def line_choices(company) -> dict:
    """The select options of every line row, read once per page; accounts and parties are
    searched (lookups that read the records the rows name, in one query each for the formset)."""
    blank = [("", "—")]
    return {
        "account": account_lookup(company),
        "party": party_lookup(company),
        "tax_code": blank + [(t.pk, t.code) for t in TaxCode.objects.for_company(company).filter(is_active=True)],
        "cost_centre": blank + [(c.pk, str(c)) for c in CostCentre.objects.for_company(company).filter(is_active=True)],
    }


class _BaseLineFormSet(forms.BaseFormSet):
    def __init__(self, *args, choices: dict, **kwargs):
        self.choices = choices
        super().__init__(*args, **kwargs)
        # The accounts and parties the rows name (posted, or of the draft being edited), read
        # in one query each.
        for name, lookup in choices.items():
            if not isinstance(lookup, RecordLookup):
                continue
            if self.is_bound:
                suffix = f"-{name}"
                lookup.prime(value for key, value in self.data.items()
                             if key.startswith(f"{self.prefix}-") and key.endswith(suffix))
            else:
                lookup.prime(row.get(name) for row in self.initial or [])

    def get_form_kwargs(self, index):
        return {"choices": self.choices}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, choices=self.choices, renderer=self.renderer)
        self.add_fields(form, None)
        return form


LineFormSet = forms.formset_factory(LineForm, formset=_BaseLineFormSet, extra=0, max_num=500, validate_max=True)


class ReverseForm(forms.Form):
    date = forms.DateField(widget=DateInput())
    description = forms.CharField(max_length=500, required=False, help_text="Why (kept on the reversal).")
