"""A search-select: choose one record out of many by typing, instead of a <select> listing them all.

The page shows a text box (an ARIA combobox); as one types, htmx asks a search page for at
most a screenful of matches (an option list), and picking one (mouse, or the arrow keys and
Enter) puts the record's id in a hidden input. The form still checks the id on the server:
a record outside the field's queryset (another company's) is refused with a message.

    class LineForm(forms.Form):
        party = PartySearchField(required=False)

        def __init__(self, *args, company, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["party"].lookup = party_lookup(company)

The widget's template is web/widgets/search_select.html, its options come from
web/partials/search_select_options.html, its script (web/search_select.js) is in the form's
media: a page renders `{{ form.media }}` (web/partials/form.html does). A formset reads the
records its rows name in one query with `RecordLookup.prime`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.urls import reverse_lazy

from keel.core.models import Company, Party
from keel.core.records import parse_id

# The search page answers at most this many matches; more: type more of the name.
SEARCH_LIMIT = 20
# What the text box sends alongside the chosen id: "<field name>_search".
TEXT_SUFFIX = "_search"


def _record_id(value: Any) -> int | None:
    """A positive database id from a form value (or a record), else None."""
    if isinstance(value, Model):
        return value.pk
    return parse_id(value)


class RecordLookup:
    """The records a search-select may choose from (a queryset, e.g. one company's parties),
    read by id and remembered, so a formset's rows are read in one query (`prime`)."""

    def __init__(self, queryset: QuerySet, *, label: Callable[[Model], str] = str):
        self.queryset = queryset
        self.label = label
        self._found: dict[int, Model | None] = {}

    def prime(self, values: Iterable[Any]) -> None:
        """Read every record named in `values` (ids, id strings, records) not read yet."""
        wanted = {pk for pk in map(_record_id, values) if pk is not None} - self._found.keys()
        if wanted:
            found = self.queryset.in_bulk(wanted)
            for pk in wanted:
                self._found[pk] = found.get(pk)

    def get(self, value: Any) -> Model | None:
        """The record of that id in the queryset, or None (no such id, or another company's)."""
        pk = _record_id(value)
        if pk is None:
            return None
        self.prime([pk])
        return self._found[pk]

    def __deepcopy__(self, memo):
        return self  # one lookup for every copy of the field (each row of a formset)


class TypedText(str):
    """What was typed in the text box when no record was picked from the results."""


class SearchSelect(forms.Widget):
    """A text box that searches as one types, and a hidden input holding the chosen id."""

    template_name = "web/widgets/search_select.html"

    class Media:
        js = ["web/search_select.js"]

    def __init__(self, *, search_url: str = "", placeholder: str = "", attrs: dict | None = None):
        super().__init__(attrs)
        self.search_url = search_url
        self.placeholder = placeholder
        self.lookup: RecordLookup | None = None

    def _chosen(self, value: Any) -> tuple[str, str]:
        """(the id to keep, the text to show) for a value: a record, an id, or typed text."""
        if isinstance(value, TypedText):
            return "", str(value)
        record = value if isinstance(value, Model) else (self.lookup.get(value) if self.lookup else None)
        if record is None:  # nothing chosen, or an id the lookup refuses: never shown by name
            return "", ""
        label = self.lookup.label(record) if self.lookup else str(record)
        return str(record.pk), label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen, label = self._chosen(value)
        widget = context["widget"]
        options_id = f"{widget['attrs'].get('id') or name}_options"
        widget.update(value=chosen, label=label, text_name=name + TEXT_SUFFIX, search_url=str(self.search_url),
                      options_id=options_id, placeholder=self.placeholder)
        return context

    def value_from_datadict(self, data, files, name):
        chosen = data.get(name) or ""
        typed = data.get(name + TEXT_SUFFIX)
        if typed is not None and not typed.strip():
            return ""  # the box was emptied: nothing chosen
        if not chosen and typed:
            return TypedText(typed.strip()[:200])
        return chosen

    def value_omitted_from_data(self, data, files, name):
        return name not in data and name + TEXT_SUFFIX not in data


class SearchSelectField(forms.Field):
    """One record of `lookup`'s queryset, chosen through a SearchSelect; cleans to the record."""

    widget = SearchSelect
    default_error_messages = {
        "typed": "'%(text)s' was typed but not picked: choose %(what)s from the search results.",
        "invalid_choice": "That is not %(what)s of this company: search and choose one.",
    }

    def __init__(self, *, search_url: str = "", what: str = "a record", placeholder: str = "",
                 lookup: RecordLookup | None = None, **kwargs):
        kwargs.setdefault("widget", SearchSelect(search_url=search_url, placeholder=placeholder))
        super().__init__(**kwargs)
        self.what = what
        self.lookup = lookup

    @property
    def lookup(self) -> RecordLookup | None:
        return self._lookup

    @lookup.setter
    def lookup(self, value: RecordLookup | None) -> None:
        self._lookup = value
        self.widget.lookup = value

    def to_python(self, value):
        if isinstance(value, Model):
            value = value.pk
        if value in self.empty_values:
            return None
        if isinstance(value, TypedText):
            raise ValidationError(self.error_messages["typed"], code="typed",
                                  params={"text": value[:60], "what": self.what})
        if self.lookup is None:
            raise ImproperlyConfiguredLookup(f"{type(self).__name__} needs a lookup before it can clean.")
        record = self.lookup.get(value)
        if record is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"what": self.what})
        return record

    def has_changed(self, initial, data) -> bool:
        if self.disabled:
            return False
        try:
            chosen = self.to_python(data)
        except ValidationError:
            return True
        return _record_id(chosen) != _record_id(initial)


class ImproperlyConfiguredLookup(RuntimeError):
    """A search-select field was cleaned before its form gave it a lookup."""


class PartySearchField(SearchSelectField):
    """A party of the active company, found by name, tax ID or email (web:party_search)."""

    default_error_messages = {"invalid_choice": "That party is not one of this company's parties: search and choose one."}

    def __init__(self, **kwargs):
        kwargs.setdefault("search_url", reverse_lazy("web:party_search"))
        kwargs.setdefault("what", "a party")
        kwargs.setdefault("placeholder", "Name or tax ID")
        super().__init__(**kwargs)


def party_lookup(company: Company) -> RecordLookup:
    """The parties a PartySearchField of `company`'s forms may name (any, active or not)."""
    return RecordLookup(Party.objects.for_company(company).only("pk", "name", "company_id"))
