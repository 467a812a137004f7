"""The demo: two companies, users for the main roles, parties, rates and tasks.

`keel demo` calls `build_demo()`. Everything is written through the services (so the demo
has a history, KPIs and a verifiable chain) with fixed data: the same run gives the same
records, relative to today. It is idempotent: a second run finds the demo company and
writes nothing.

Other departments add their own demo data with a step:

    from keel.core.demo import register_demo_step

    @register_demo_step
    def ledger_demo(demo: DemoContext) -> None:
        company = demo.companies["demo"]
        ...  # through the ledger's services, acting as demo.owner_of(company)

Register in the app's AppConfig.ready() (or a module it imports). Steps run after the core's
data, each in its own transaction, on every `keel demo`; a step must be idempotent itself
(look for what it made last time and return), because the core's data may already exist.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from keel.core.choices import PartyKind
from keel.core.models import Company, Membership
from keel.core.services.companies import create_company
from keel.core.services.currencies import set_rate
from keel.core.services.memberships import add_member, create_user
from keel.core.services.parties import create_party

DEMO_PASSWORD = "keel-demo-2026"
DEMO_CODE = "demo"
CLIENT_CODE = "northwind"
RATE_DAYS = 90

# (email, first name, last name, {company code: role code}); owners are created first.
DEMO_USERS: list[tuple[str, str, str, dict[str, str]]] = [
    ("owner@demo.keel", "Olivia", "Hart", {DEMO_CODE: "owner"}),
    ("owner@northwind.demo.keel", "Niklas", "Brandt", {CLIENT_CODE: "owner"}),
    ("admin@demo.keel", "Adam", "Price", {DEMO_CODE: "administrator"}),
    # The shared-service centre's accountant keeps the books of both companies.
    ("accountant@demo.keel", "Aisha", "Khan", {DEMO_CODE: "accountant", CLIENT_CODE: "accountant"}),
    ("billing@demo.keel", "Ben", "Carter", {DEMO_CODE: "billing_clerk"}),
    ("hr@demo.keel", "Hannah", "Reid", {DEMO_CODE: "hr_manager"}),
    ("support@demo.keel", "Sam", "Okafor", {DEMO_CODE: "support_agent"}),
    ("employee@demo.keel", "Emma", "Walsh", {DEMO_CODE: "employee"}),
    ("auditor@demo.keel", "Arthur", "Lindqvist", {DEMO_CODE: "auditor"}),
]

COMPANIES = {
    DEMO_CODE: {
        "legal_name": "Keel Demo Ltd", "country": "GB", "base_currency": "GBP", "fiscal_year_start_month": 4,
        "tax_id": "GB980780684", "street": "1 Harbour Street", "postal_code": "BS1 4RN", "city": "Bristol",
        "owner": "owner@demo.keel",
    },
    CLIENT_CODE: {
        "legal_name": "Northwind Services GmbH", "country": "DE", "base_currency": "EUR", "fiscal_year_start_month": 1,
        "tax_id": "DE136695976", "street": "Hafenstraße 12", "postal_code": "20457", "city": "Hamburg",
        "owner": "owner@northwind.demo.keel",
    },
}

# Valid check digits (python-stdnum), made up numbers.
_GB_VAT = ["GB123456041", "GB123456139", "GB123456237", "GB123456335", "GB123456433", "GB123456531",
           "GB123456629", "GB123456727", "GB123456825", "GB123456923", "GB123457038", "GB123457136"]
_DE_VAT = ["DE123456704", "DE123456712", "DE123456729", "DE123456737", "DE123456745", "DE123456753"]

_GB_CITIES = [("Bristol", "BS1"), ("Manchester", "M1"), ("Leeds", "LS1"), ("Glasgow", "G1"), ("Cardiff", "CF10"),
              ("Birmingham", "B1"), ("London", "EC1A"), ("Edinburgh", "EH1"), ("Norwich", "NR1"), ("York", "YO1")]
_DE_CITIES = [("Hamburg", "20095"), ("Berlin", "10115"), ("München", "80331"), ("Köln", "50667"), ("Bremen", "28195")]

# (name, roles, kind) for Keel Demo Ltd: 16 customers, 12 suppliers, 2 both, 10 employees.
_DEMO_PARTIES: list[tuple[str, list[str], str]] = [
    *[(name, ["customer"], PartyKind.ORGANISATION) for name in (
        "Avon Valley Bakeries Ltd", "Brightwater Hotels plc", "Cobalt Engineering Ltd", "Dunmore Logistics Ltd",
        "Elmstead Dental Practice", "Fernhill Garden Centres Ltd", "Granite Peak Outdoor Ltd", "Harbourside Cafés Ltd",
        "Ironbridge Architects LLP", "Juniper Health Clinics Ltd", "Kestrel Aviation Services Ltd",
        "Larkspur Florists", "Meridian Marine Ltd", "Nettlebed Brewing Co", "Oakridge Schools Trust",
        "Pennine Print Works Ltd",
    )],
    *[(name, ["supplier"], PartyKind.ORGANISATION) for name in (
        "Quayside Office Supplies Ltd", "Redfern IT Solutions Ltd", "Severn Energy Ltd", "Thornbury Cleaning Services",
        "Upland Telecom plc", "Vantage Insurance Brokers Ltd", "Westgate Property Management Ltd",
        "Yardley Couriers Ltd", "Zephyr Cloud Hosting Ltd", "Allbright Stationers Ltd", "Brookfield Legal LLP",
        "Castlegate Accountancy Software Ltd",
    )],
    ("Driftwood Trading Ltd", ["customer", "supplier"], PartyKind.ORGANISATION),
    ("Evergreen Facilities Ltd", ["customer", "supplier"], PartyKind.ORGANISATION),
    *[(name, ["employee"], PartyKind.PERSON) for name in (
        "Olivia Hart", "Adam Price", "Aisha Khan", "Ben Carter", "Hannah Reid", "Sam Okafor", "Emma Walsh",
        "Liam Foster", "Grace Bennett", "Noah Patel",
    )],
]

_CLIENT_PARTIES: list[tuple[str, list[str], str]] = [
    *[(name, ["customer"], PartyKind.ORGANISATION) for name in (
        "Alsterblick Immobilien GmbH", "Elbufer Reederei KG", "Fischmarkt Gastronomie GmbH", "Speicherstadt Kaffee AG",
    )],
    *[(name, ["supplier"], PartyKind.ORGANISATION) for name in (
        "Hanse Bürobedarf GmbH", "Nordlicht Energie AG", "Blankenese Logistik GmbH",
    )],
    *[(name, ["employee"], PartyKind.PERSON) for name in ("Niklas Brandt", "Lena Vogel", "Jonas Krüger")],
]

# Rates in the company's base currency for one unit: a seeded random walk around these.
_RATES = {DEMO_CODE: {"USD": Decimal("0.7900"), "EUR": Decimal("0.8550")},
          CLIENT_CODE: {"USD": Decimal("0.9240"), "GBP": Decimal("1.1700")}}

# (title, assignee email, days from today until due or None, subject party index or None, completed)
_TASKS: list[tuple[str, str, int | None, int | None, bool]] = [
    ("Chase overdue payment from Brightwater Hotels", "billing@demo.keel", -12, 1, False),
    ("Confirm new bank details of Redfern IT Solutions", "accountant@demo.keel", -5, 17, False),
    ("Collect signed contract from Kestrel Aviation", "billing@demo.keel", -3, 10, False),
    ("Book onboarding for Liam Foster", "hr@demo.keel", -1, 37, False),
    ("Reconcile last month's card statements", "accountant@demo.keel", 2, None, False),
    ("Review insurance renewal with Vantage", "admin@demo.keel", 5, 21, False),
    ("Answer support question from Oakridge Schools Trust", "support@demo.keel", 1, 14, False),
    ("Update emergency contact details", "employee@demo.keel", 7, None, False),
    ("Prepare quarterly VAT figures", "accountant@demo.keel", 14, None, False),
    ("Send welcome pack to Juniper Health Clinics", "billing@demo.keel", -8, 9, True),
    ("Collect P45 from Grace Bennett", "hr@demo.keel", -4, 38, True),
    ("Close ticket: Harbourside Cafés login issue", "support@demo.keel", -2, 7, True),
    ("Check the audit trail for January", "auditor@demo.keel", 10, None, False),
]


@dataclass
class DemoContext:
    """What a demo step gets: the demo companies and users, and today's date."""

    today: dt.date
    companies: dict[str, Company]
    users: dict[str, object]  # by email
    created: bool  # True when this run created the core's demo data
    parties: dict[str, dict[str, object]] = field(default_factory=dict)  # company code -> name -> party

    def owner_of(self, company: Company):
        return self.users[COMPANIES[company.code]["owner"]]


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    roles: dict[str, str]  # company code -> role code


@dataclass
class DemoResult:
    created: bool
    logins: list[DemoLogin]
    companies: list[Company]


DemoStep = Callable[[DemoContext], None]
_steps: dict[str, DemoStep] = {}


def register_demo_step(step: DemoStep) -> DemoStep:
    """Add a department's demo data to `keel demo` (usable as a decorator; registering twice is harmless)."""
    _steps[f"{step.__module__}.{step.__qualname__}"] = step
    return step


def demo_steps() -> list[DemoStep]:
    return list(_steps.values())


def logins() -> list[DemoLogin]:
    return [DemoLogin(email, DEMO_PASSWORD, dict(roles)) for email, _first, _last, roles in DEMO_USERS]


def build_demo(*, today: dt.date | None = None) -> DemoResult:
    """Create the demo (or find it) and run every registered step."""
    today = today or timezone.localdate()
    with transaction.atomic():
        context = _existing(today)
        if context is None:
            context = _create(today)
    for step in demo_steps():
        with transaction.atomic():
            step(context)
    return DemoResult(created=context.created, logins=logins(), companies=list(context.companies.values()))


def _existing(today: dt.date) -> DemoContext | None:
    companies = {c.code: c for c in Company.objects.filter(code__in=list(COMPANIES))}
    if DEMO_CODE not in companies:
        return None
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    return DemoContext(today=today, companies=companies, users=users, created=False)


def _create(today: dt.date) -> DemoContext:
    people = {email: (first, last) for email, first, last, _roles in DEMO_USERS}
    context = DemoContext(today=today, companies={}, users={}, created=True)
    for code, settings in COMPANIES.items():
        values = dict(settings)
        owner_email = values.pop("owner")
        first, last = people[owner_email]
        owner = create_user(email=owner_email, password=DEMO_PASSWORD, first_name=first, last_name=last, is_staff=True)
        context.users[owner_email] = owner
        context.companies[code] = create_company(actor=owner, code=code, **values)
    for email, first, last, roles in DEMO_USERS:
        for code, role in roles.items():
            if role == "owner":
                continue
            company = context.companies[code]
            membership = add_member(
                actor=context.owner_of(company), company=company, email=email, role=role,
                password=DEMO_PASSWORD, first_name=first, last_name=last,
            )
            context.users[email] = membership.user
    _parties(context, DEMO_CODE, _DEMO_PARTIES, _GB_VAT, _GB_CITIES, "GB")
    _parties(context, CLIENT_CODE, _CLIENT_PARTIES, _DE_VAT, _DE_CITIES, "DE")
    for code in COMPANIES:
        _rates(context, code)
    _tasks(context)
    return context


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _slug(name: str) -> str:
    return "".join(ch for ch in _ascii(name).lower() if ch.isalnum() or ch == " ").split(" ")[0]


def _parties(context: DemoContext, code: str, parties, vat_numbers: list[str], cities, country: str) -> None:
    company = context.companies[code]
    actor = context.owner_of(company)
    made = context.parties.setdefault(code, {})
    vat = iter(vat_numbers)
    domain = "example.co.uk" if country == "GB" else "example.de"
    for index, (name, roles, kind) in enumerate(parties):
        city, postal = cities[index % len(cities)]
        is_person = kind == PartyKind.PERSON
        tax_id = next(vat, "") if not is_person and index % 2 == 0 else ""
        local = _ascii(name).lower().replace(" ", ".") if is_person else "accounts"
        email = f"{local}@{_slug(name) if not is_person else 'staff'}.{domain}"
        addresses = [{"kind": "main", "street": f"{10 + index * 7} {'High Street' if country == 'GB' else 'Hauptstraße'}",
                      "postal_code": f"{postal} {index % 9 + 1}AB" if country == "GB" else postal,
                      "city": city, "country": country}]
        if "customer" in roles and index % 3 == 0:
            addresses.append({"kind": "billing", "street": f"PO Box {100 + index}", "postal_code": postal,
                              "city": city, "country": country})
        made[name] = create_party(
            actor=actor, company=company, name=name, kind=kind, roles=roles, tax_id=tax_id,
            tax_country=country if tax_id else "", email=email,
            phone=f"+44 117 496 {index:04d}" if country == "GB" else f"+49 40 555 {index:04d}",
            addresses=addresses,
        )


def _rates(context: DemoContext, code: str) -> None:
    company = context.companies[code]
    actor = context.owner_of(company)
    walk = random.Random(f"keel-demo-rates-{code}")  # seeded: the same rates on every run
    for currency, start in _RATES[code].items():
        rate = start
        for offset in range(RATE_DAYS - 1, -1, -1):
            day = context.today - dt.timedelta(days=offset)
            step = Decimal(walk.randint(-40, 40)) / Decimal(10000)
            rate = (rate * (1 + step / 10)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
            set_rate(actor=actor, company=company, currency=currency, on_date=day, rate=rate, source="demo")


def _tasks(context: DemoContext) -> None:
    from keel.inbox.services import complete_task, create_task

    company = context.companies[DEMO_CODE]
    creator = context.users["admin@demo.keel"]
    party_list = list(context.parties[DEMO_CODE].values())
    for title, email, due_in, party_index, completed in _TASKS:
        assignee = context.users[email]
        task = create_task(
            actor=creator, company=company, title=title, assignee=assignee,
            due_date=context.today + dt.timedelta(days=due_in) if due_in is not None else None,
            subject=party_list[party_index] if party_index is not None else None, source="demo",
        )
        if completed:
            complete_task(actor=assignee, task=task)
    # The shared-service accountant also has work in the client company.
    client = context.companies[CLIENT_CODE]
    create_task(
        actor=context.owner_of(client), company=client, title="Monatsabschluss vorbereiten (month-end close)",
        assignee=context.users["accountant@demo.keel"], due_date=context.today + dt.timedelta(days=3), source="demo",
    )


def membership_summary(company: Company) -> list[tuple[str, str]]:
    """(email, role) of the company's active members: what the demo command prints."""
    return list(
        Membership.objects.for_company(company).filter(is_active=True)
        .order_by("user__username").values_list("user__username", "role__code")
    )
