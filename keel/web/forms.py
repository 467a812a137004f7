"""Form helpers: every form POST runs its service through `keel.core.submissions`.

    outcome = submit(form, company=request.company, document_type="core.party",
                     call=lambda data: create_party(actor=request.user, company=..., **data))
    if outcome.ok:
        return redirect(outcome.result)

An invalid Django form is counted as a rejected submission; a service refusing the input
(ValidationFailed, Conflict: a KeelError with status 400/409) is counted by `track` and its
message put on the named field (or on the form). NotFound and PermissionDenied pass through,
to become 404 / 403 in `keel.web.decorators`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from keel.core import submissions
from keel.core.exceptions import KeelError


@dataclass
class Outcome:
    ok: bool
    result: Any = None
    error: KeelError | None = None


def apply_error(form: forms.BaseForm, exc: KeelError) -> None:
    """Show a Keel error on the form: on the fields it names, else above the form."""
    placed = False
    for name, messages in exc.fields.items():
        target = name if name in form.fields else None
        for message in messages:
            form.add_error(target, message)
        placed = True
    if not placed:
        form.add_error(None, exc.message)


def run(company, document_type: str, call: Callable[[], Any]) -> Outcome:
    """Run a service call counted as one submission; refusals come back as an Outcome."""
    try:
        with submissions.track(company, document_type):
            return Outcome(ok=True, result=call())
    except KeelError as exc:
        if exc.status in (400, 409):
            return Outcome(ok=False, error=exc)
        raise


def submit(form: forms.BaseForm, *, company, document_type: str, call: Callable[[dict], Any]) -> Outcome:
    """Validate `form`, then run `call(cleaned_data)` as a counted submission."""
    if not form.is_valid():
        submissions.count(company, document_type, rejected=True)
        return Outcome(ok=False)
    outcome = run(company, document_type, lambda: call(form.cleaned_data))
    if outcome.error is not None:
        apply_error(form, outcome.error)
    return outcome


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")
