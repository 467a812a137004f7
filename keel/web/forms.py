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
from decimal import Decimal
from typing import Any

from django import forms

from keel.core import submissions
from keel.core.exceptions import KeelError, ValidationFailed
from keel.core.money import parse_amount


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


class AmountInput(forms.TextInput):
    """An amount typed as text: a number input would refuse thousands separators and drop
    what it cannot read without a word, where the parser says what is wrong."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})


class AmountField(forms.Field):
    """An amount a person types, read by the one parser (`keel.core.money.parse_amount`):
    "1234.56" or "1,234.56", within MAX_AMOUNT (what SQLite stores exactly) and `decimals`.
    A refusal carries the parser's code (money.too_large, money.not_a_number,
    money.too_many_decimals, money.ambiguous) and message, as the services and the API give.
    Empty is None."""

    widget = AmountInput

    def __init__(self, *, decimals: int = 4, min_value: Decimal | int | None = None, **kwargs):
        self.decimals, self.min_value = decimals, min_value
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        label = str(self.label).lower() if self.label else "amount"
        try:
            amount = parse_amount(value, decimals=self.decimals, label=label)
        except ValidationFailed as error:
            raise forms.ValidationError(error.message, code=error.code)
        if self.min_value is not None and amount < self.min_value:
            raise forms.ValidationError(f"The {label} is never below {self.min_value}.", code="min_value")
        return amount
