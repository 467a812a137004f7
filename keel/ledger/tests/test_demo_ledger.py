"""The ledger's demo step: a balanced year of books, posted once."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from keel.core.models import Company
from keel.ledger.choices import EntryStatus
from keel.ledger.models import Entry, Line, TaxReturn
from keel.ledger.selectors import trial_balance
from keel.ledger.services.balances import verify_balances

pytestmark = pytest.mark.django_db(transaction=True)


def _demo():
    call_command("demo", stdout=StringIO())


def test_the_demo_gets_a_year_of_books_and_a_second_run_adds_nothing():
    started = time.perf_counter()
    _demo()
    assert time.perf_counter() - started < 60  # the whole demo; the ledger step alone is well under a second
    company = Company.objects.get(code="demo")
    entries = Entry.objects.filter(company=company, source_type="ledger.demo")
    count, lines = entries.count(), Line.objects.filter(company=company, entry__in=entries).count()
    assert count > 200 and lines > 700
    assert not entries.exclude(status=EntryStatus.POSTED).exists()
    today = timezone.localdate()
    first = entries.order_by("date").first()
    assert first.reference == "OPENING" and (today - first.date).days >= 365
    assert entries.order_by("-date").first().date <= today
    journals = set(entries.values_list("journal__code", flat=True))
    assert {"OPN", "SAL", "PUR", "PAY", "BNK"} <= journals
    receivable = Line.objects.filter(company=company, entry__in=entries, account__code="1200", debit__gt=0,
                                     party__isnull=False)
    assert receivable.exists() and not receivable.filter(due_date__isnull=True).exists()
    assert Line.objects.filter(company=company, entry__in=entries, cost_centre__isnull=False).exists()
    report = trial_balance(company, first.date, today)
    assert report.is_balanced and verify_balances(company).ok
    # The past quarters' returns are filed; the latest that has ended is left to file.
    from keel.ledger.services.taxes import period_to_file

    filed = TaxReturn.objects.filter(company=company)
    latest = period_to_file(company, today)
    assert filed.count() >= 3 and not filed.filter(date_to__gte=latest[0]).exists()
    assert filed.order_by("-date_from").first().date_to == latest[0] - dt.timedelta(days=1)
    returns = filed.count()
    _demo()
    assert Entry.objects.filter(company=company, source_type="ledger.demo").count() == count
    assert filed.count() == returns
