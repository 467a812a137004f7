"""Dashboard forms: the date range and a KPI's target."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from keel.web.forms import AmountField, DateInput

DEFAULT_DAYS = 30
MAX_DAYS = 366


class DateRangeForm(forms.Form):
    date_from = forms.DateField(required=False, widget=DateInput(), label="From")
    date_to = forms.DateField(required=False, widget=DateInput(), label="To")

    def clean(self):
        data = super().clean()
        date_to = data.get("date_to") or timezone.localdate()
        date_from = data.get("date_from") or date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            raise forms.ValidationError("The range starts after it ends.")
        if (date_to - date_from).days >= MAX_DAYS:
            raise forms.ValidationError(f"Choose a range of at most {MAX_DAYS} days.")
        data["date_from"], data["date_to"] = date_from, date_to
        return data

    def range(self) -> tuple[dt.date, dt.date]:
        if self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"]
        today = timezone.localdate()
        return today - dt.timedelta(days=DEFAULT_DAYS - 1), today


class TargetForm(forms.Form):
    kpi_code = forms.CharField(max_length=100, widget=forms.HiddenInput)
    target = AmountField(label="Target")
