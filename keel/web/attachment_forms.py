"""The attachment upload form, shared by every record's page."""

from __future__ import annotations

from django import forms


class AttachmentForm(forms.Form):
    file = forms.FileField(label="File", max_length=300)
