"""The task form: assign to a member or a role, a due date, an optional record it is about."""

from __future__ import annotations

from django import forms

from keel.core.access import users_in
from keel.core.models import Role
from keel.inbox.choices import TaskStatus
from keel.web.forms import DateInput


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)
    assignee = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None, label="Assign to a member")
    assignee_role = forms.TypedChoiceField(choices=(), coerce=int, required=False, empty_value=None, label="…or to everyone with a role")
    due_date = forms.DateField(required=False, widget=DateInput())
    subject_type = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    subject_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company
        self.fields["assignee"].choices = [("", "—")] + [
            (u.pk, u.get_full_name() or u.username) for u in users_in(company).order_by("username")
        ]
        self.fields["assignee_role"].choices = [("", "—")] + [
            (r.pk, r.name) for r in Role.objects.for_company(company).order_by("name")
        ]

    def clean(self):
        data = super().clean()
        if not data.get("assignee") and not data.get("assignee_role"):
            raise forms.ValidationError("Assign the task to a member or to a role.")
        return data


class TaskFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "All"), *TaskStatus.choices], required=False)
