"""`keel demo`: the demo companies, users and data; a second run changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.utils import timezone
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from keel.core import demo
from keel.core.activity import verify_chain
from keel.core.models import Activity, Company, ExchangeRate, Membership, Party, PartyRole
from keel.inbox.models import Task

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        "companies": Company.objects.count(),
        "users": get_user_model().objects.count(),
        "memberships": Membership.objects.count(),
        "parties": Party.objects.count(),
        "rates": ExchangeRate.objects.count(),
        "tasks": Task.objects.count(),
        "activities": Activity.objects.count(),
    }


def _demo() -> str:
    out = StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_demo_is_idempotent_and_prints_the_same_logins():
    first = _demo()
    counts = _counts()
    second = _demo()
    assert _counts() == counts
    assert first.startswith("Demo loaded: Keel Demo Ltd (demo), Northwind Services GmbH (northwind).")
    assert second.startswith("The demo is already loaded; nothing changed.")
    logins = first.split("Demo logins", 1)[1]
    assert logins == second.split("Demo logins", 1)[1]
    assert "owner@demo.keel" in logins and "keel-demo-2026" in logins
    assert "accountant@demo.keel       keel-demo-2026  accountant in demo, accountant in northwind" in logins


def test_demo_contents():
    _demo()
    company = Company.objects.get(code="demo")
    client = Company.objects.get(code="northwind")
    assert (company.legal_name, company.country, company.base_currency_id) == ("Keel Demo Ltd", "GB", "GBP")
    assert (client.legal_name, client.country, client.base_currency_id) == ("Northwind Services GmbH", "DE", "EUR")
    assert gb_vat.is_valid(company.tax_id) and eu_vat.is_valid(client.tax_id)
    roles = set(Membership.objects.for_company(company).values_list("role__code", flat=True))
    assert roles == {"owner", "administrator", "accountant", "billing_clerk", "hr_manager", "support_agent",
                     "employee", "auditor"}
    shared = get_user_model().objects.get(username="accountant@demo.keel")
    assert set(Membership.objects.filter(user=shared).values_list("company__code", flat=True)) == {"demo", "northwind"}
    staff = set(get_user_model().objects.filter(is_staff=True).values_list("username", flat=True))
    assert staff == {"owner@demo.keel", "owner@northwind.demo.keel"}
    assert all(u.check_password(demo.DEMO_PASSWORD) for u in get_user_model().objects.all())

    assert Party.objects.for_company(company).count() == 40
    for role in ("customer", "supplier", "employee"):
        assert PartyRole.objects.for_company(company).filter(role=role).count() >= 10
    assert Party.objects.for_company(company).filter(addresses__isnull=True).count() == 0

    today = timezone.localdate()
    rates = ExchangeRate.objects.for_company(company)
    assert set(rates.values_list("currency_id", flat=True)) == {"USD", "EUR"}
    assert rates.filter(currency_id="USD").count() == demo.RATE_DAYS
    assert rates.filter(currency_id="USD", date=today).exists()
    assert set(ExchangeRate.objects.for_company(client).values_list("currency_id", flat=True)) == {"USD", "GBP"}

    tasks = Task.objects.for_company(company)
    assert tasks.filter(status="open", due_date__lt=today).count() == 4
    assert tasks.filter(status="done").count() == 3
    assert Task.objects.for_company(client).filter(assignee=shared).count() == 1

    for each in (company, client):
        report = verify_chain(each)
        assert report.ok and report.checked > 100


def test_demo_data_is_deterministic():
    _demo()
    first = list(ExchangeRate.objects.order_by("company__code", "currency_id", "date").values_list("rate", flat=True))
    names = list(Party.objects.order_by("company__code", "name").values_list("name", "tax_id", "email"))
    Task.objects.all().delete()
    ExchangeRate.objects.all().delete()
    # A fresh build elsewhere gives the same values (the random walk is seeded).
    context = demo.DemoContext(today=timezone.localdate(), companies={c.code: c for c in Company.objects.all()},
                               users={u.username: u for u in get_user_model().objects.all()}, created=False)
    for code in demo.COMPANIES:
        demo._rates(context, code)
    again = list(ExchangeRate.objects.order_by("company__code", "currency_id", "date").values_list("rate", flat=True))
    assert again == first
    assert len(names) == 50


def test_demo_password_passes_the_validators():
    validate_password(demo.DEMO_PASSWORD)


def test_registered_steps_run_on_every_demo(monkeypatch):
    monkeypatch.setattr(demo, "_steps", {})
    seen = []

    @demo.register_demo_step
    def ledger_demo(context):
        seen.append((sorted(context.companies), context.created, context.owner_of(context.companies["demo"]).username))

    demo.register_demo_step(ledger_demo)  # twice: still one step
    _demo()
    _demo()
    assert seen == [
        (["demo", "northwind"], True, "owner@demo.keel"),
        (["demo", "northwind"], False, "owner@demo.keel"),
    ]
