"""Posting: the happy path, every refusal (with nothing written), drafts, reversal, bulk."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keel.core.exceptions import NotFound, PermissionDenied, ValidationFailed
from keel.core.models import Activity, Party
from keel.core.services.currencies import set_rate
from keel.ledger.choices import EntryStatus
from keel.ledger.models import Account, Balance, Entry, Line
from keel.ledger.selectors import trial_balance
from keel.ledger.services import (
    EntryInput,
    LineInput,
    create_cost_centre,
    create_draft_entry,
    delete_draft_entry,
    post_draft_entry,
    post_entries_bulk,
    post_entry,
    reverse_entry,
    set_account_active,
    update_draft_entry,
    verify_balances,
)
from keel.ledger.tests.factories import DAY, lines, party_for, post_sale, sale

pytestmark = pytest.mark.django_db


def counts(company):
    return (
        Entry.objects.for_company(company).count(),
        Line.objects.for_company(company).count(),
        Balance.objects.for_company(company).count(),
        Activity.objects.filter(company=company).count(),
    )


def account(company, code):
    return Account.objects.for_company(company).get(code=code)


def balance(company, code):
    row = Balance.objects.for_company(company).get(account__code=code)
    return row.debit, row.credit, row.line_count


def test_posting_writes_a_numbered_entry_its_lines_balances_and_an_activity(books, accountant):
    entry = post_entry(actor=accountant, company=books, journal="SAL", date=DAY, reference="INV-1",
                       description="Consulting", lines=sale("120.50", company=books))

    assert entry.status == EntryStatus.POSTED
    assert entry.number == "SAL/2026/000001"
    assert entry.period.name == "2026-03"
    assert entry.posted_by == accountant and entry.posted_at is not None
    assert [(line.account.code, line.debit, line.credit) for line in entry.lines.order_by("position")] == [
        ("1200", Decimal("120.50"), Decimal("0")), ("4000", Decimal("0"), Decimal("120.50")),
    ]
    assert balance(books, "1200") == (Decimal("120.50"), Decimal("0"), 1)
    assert balance(books, "4000") == (Decimal("0"), Decimal("120.50"), 1)
    activity = Activity.objects.filter(company=books, verb="ledger.entry_posted").get()
    assert activity.subject_id == str(entry.pk) and activity.actor == accountant
    assert activity.data["number"] == "SAL/2026/000001" and activity.data["amount"] == "120.50"
    assert verify_balances(books).ok


def test_numbers_are_per_journal_and_fiscal_year(books):
    assert post_sale(books).number == "SAL/2026/000001"
    assert post_sale(books).number == "SAL/2026/000002"
    assert post_sale(books, journal="GEN").number == "GEN/2026/000001"
    assert post_sale(books, day=dt.date(2025, 12, 31)).number == "SAL/2025/000001"


def test_lines_carry_party_cost_centre_due_date_and_source(books, accountant):
    customer = Party.objects.create(company=books, name="Initech", normalized_name="initech")
    centre = create_cost_centre(actor=accountant, company=books, code="NORTH", name="North office")
    entry = post_entry(actor=accountant, company=books, journal="SAL", date=DAY, source_type="billing.invoice",
                       source_id="42", lines=[
                           LineInput(account="1200", debit="100", party=customer, due_date=dt.date(2026, 4, 14),
                                     source_type="billing.invoice", source_id="42"),
                           LineInput(account="4000", credit="100", cost_centre="NORTH", label="Services"),
                       ])
    receivable, income = entry.lines.order_by("position")
    assert receivable.party == customer and receivable.due_date == dt.date(2026, 4, 14)
    assert receivable.source_type == "billing.invoice" and entry.source_id == "42"
    assert income.cost_centre == centre and income.label == "Services"


def test_a_foreign_currency_line_takes_the_rate_of_its_date(books, owner):
    set_rate(actor=owner, company=books, currency="USD", on_date=dt.date(2026, 3, 1), rate="0.9")
    entry = post_entry(actor=owner, company=books, journal="SAL", date=DAY, lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency="110.00"),
        LineInput(account="4000", currency="USD", amount_currency="-110.00"),
    ])
    receivable, income = entry.lines.order_by("position")
    assert (receivable.debit, receivable.rate, receivable.currency_id) == (Decimal("99.00"), Decimal("0.9"), "USD")
    assert (income.credit, income.amount_currency) == (Decimal("99.00"), Decimal("-110.00"))
    row = Balance.objects.for_company(books).get(account__code="1200")
    assert (row.currency_id, row.amount_currency) == ("USD", Decimal("110.00"))


def test_a_foreign_payment_into_a_base_bank_balances_with_an_exchange_difference(books):
    entry = post_entry(actor=None, company=books, journal="BNK", date=DAY, check_permission=False, lines=[
        LineInput(account="1400", currency="USD", amount_currency="100", rate="0.92"),
        LineInput(account="7300", debit="3.00"),
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency="-100", credit="95.00", rate="0.95"),
    ])
    assert entry.lines.count() == 3
    assert verify_balances(books).ok


def test_an_exchange_difference_line_moves_only_the_base_value_of_a_foreign_balance(books):
    """An explicit zero foreign amount with a base amount: what revaluations and settlements post."""
    post_entry(actor=None, company=books, journal="GEN", date=DAY, check_permission=False, lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency="0", debit="4.00"),
        LineInput(account="7300", credit="4.00"),
    ])
    row = Balance.objects.for_company(books).get(account__code="1200", currency_id="USD")
    assert (row.debit, row.amount_currency) == (Decimal("4.00"), 0)
    assert verify_balances(books).ok


def test_a_foreign_line_without_its_foreign_amount_is_refused(books):
    refused(books, "line.amount_currency_missing", "lines[0].amount_currency", lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", debit="4.00"),
        LineInput(account="4000", credit="4.00"),
    ])


def refused(company, code, field=None, **kwargs):
    before = counts(company)
    params = {"actor": None, "company": company, "journal": "SAL", "date": DAY, "lines": sale(company=company),
              "check_permission": False}
    params.update(kwargs)
    with pytest.raises(ValidationFailed) as exc:
        post_entry(**params)
    assert exc.value.code == code
    if field is not None:
        assert field in exc.value.fields
    assert counts(company) == before, "a refused posting wrote something"
    return exc.value


def test_an_unbalanced_entry_is_refused(books):
    error = refused(books, "entry.unbalanced", "lines", lines=lines(("1200", "100", "0"), ("4000", "0", "99.99"), company=books))
    assert "0.01" in error.message


def test_an_entry_needs_two_lines(books):
    refused(books, "entry.too_few_lines", lines=[LineInput(account="1200", party=party_for(books, "1200"), debit="1")])


def test_a_date_without_period_is_refused(books):
    refused(books, "period.not_found", "date", date=dt.date(2030, 1, 1))


def test_an_inactive_account_is_refused(books, owner):
    set_account_active(actor=owner, account=account(books, "4000"), is_active=False)
    refused(books, "account.inactive", "lines[1].account")


def test_an_account_of_another_company_is_refused(books, other_books):
    foreign = account(other_books, "4000")
    refused(books, "account.other_company", "lines[1].account",
            lines=[LineInput(account="1200", party=party_for(books, "1200"), debit="1"), LineInput(account=foreign, credit="1")])
    refused(books, "account.other_company", "lines[1].account",
            lines=[LineInput(account="1200", party=party_for(books, "1200"), debit="1"), LineInput(account=foreign.pk, credit="1")])


def test_an_unknown_account_code_is_refused(books):
    refused(books, "account.not_found", "lines[0].account", lines=lines(("9999", "1", "0"), ("4000", "0", "1")))


def test_a_party_of_another_company_is_refused(books, other_books):
    stranger = Party.objects.create(company=other_books, name="Stranger", normalized_name="stranger")
    refused(books, "party.other_company", "lines[0].party",
            lines=[LineInput(account="1200", debit="1", party=stranger.pk), LineInput(account="4000", credit="1")])


def test_more_decimals_than_the_currency_allows_are_refused(books):
    refused(books, "money.too_many_decimals", "lines[0].debit", lines=lines(("1200", "1.005", "0"), ("4000", "0", "1.005"), company=books))


def test_negative_and_double_sided_lines_are_refused(books):
    refused(books, "line.negative_amount", "lines[0].debit", lines=lines(("1200", "-1", "0"), ("4000", "0", "-1"), company=books))
    refused(books, "line.debit_and_credit", "lines[0].debit",
            lines=[LineInput(account="1200", party=party_for(books, "1200"), debit="1", credit="1"), LineInput(account="4000", credit="0")])
    refused(books, "money.not_a_number", "lines[0].debit",
            lines=[LineInput(account="1200", party=party_for(books, "1200"), debit="ten"), LineInput(account="4000", credit="10")])
    refused(books, "line.zero", "lines[1].debit", lines=lines(("1200", "1", "0"), ("4000", "0", "0"), ("4000", "0", "1"), company=books))


def test_a_missing_rate_is_refused_with_a_clear_code(books):
    error = refused(books, "rate.not_found", "lines[0].rate", lines=[
        LineInput(account="1200", party=party_for(books, "1200"), currency="USD", amount_currency="10"),
        LineInput(account="4000", currency="USD", amount_currency="-10"),
    ])
    assert "USD" in error.message


def test_an_unknown_journal_is_refused(books):
    refused(books, "journal.not_found", "journal", journal="NOPE")


def test_posting_needs_the_ledger_post_permission(books, clerk, outsider):
    before = counts(books)
    with pytest.raises(PermissionDenied):
        post_entry(actor=clerk, company=books, journal="SAL", date=DAY, lines=sale(company=books))
    with pytest.raises(NotFound):
        post_entry(actor=outsider, company=books, journal="SAL", date=DAY, lines=sale(company=books))
    assert counts(books) == before


def test_a_draft_is_saved_unbalanced_edited_and_posted_later(books, accountant):
    draft = create_draft_entry(actor=accountant, company=books, journal="GEN", date=DAY,
                               lines=lines(("6100", "500", "0"), ("1400", "0", "450")))
    assert draft.status == EntryStatus.DRAFT and draft.number == ""
    assert not Balance.objects.for_company(books).exists()
    with pytest.raises(ValidationFailed) as exc:
        post_draft_entry(actor=accountant, entry=draft)
    assert exc.value.code == "entry.unbalanced"
    draft = update_draft_entry(actor=accountant, entry=draft, lines=lines(("6100", "500", "0"), ("1400", "0", "500")),
                               description="March rent")
    posted = post_draft_entry(actor=accountant, entry=draft)
    assert posted.pk == draft.pk and posted.number == "GEN/2026/000001" and posted.description == "March rent"
    assert balance(books, "6100") == (Decimal("500.0000"), Decimal("0"), 1)
    with pytest.raises(ValidationFailed) as exc:
        update_draft_entry(actor=accountant, entry=posted, description="changed")
    assert exc.value.code == "entry.not_draft"
    with pytest.raises(ValidationFailed):
        delete_draft_entry(actor=accountant, entry=posted)


def test_a_draft_can_be_deleted(books, accountant):
    draft = create_draft_entry(actor=accountant, company=books, journal="GEN", date=DAY, lines=sale(company=books))
    delete_draft_entry(actor=accountant, entry=draft)
    assert not Entry.objects.filter(pk=draft.pk).exists() and not Line.objects.for_company(books).exists()


def test_reversal_mirrors_the_entry_links_it_and_marks_the_original(books, accountant):
    original = post_sale(books, accountant, amount="80.00")
    reversal = reverse_entry(actor=accountant, entry=original, date=dt.date(2026, 4, 2))

    original.refresh_from_db()
    assert original.status == EntryStatus.REVERSED
    assert reversal.reversal_of == original and reversal.number == "SAL/2026/000002"
    assert [(x.account.code, x.debit, x.credit) for x in reversal.lines.order_by("position")] == [
        ("1200", Decimal("0"), Decimal("80.00")), ("4000", Decimal("80.00"), Decimal("0")),
    ]
    report = trial_balance(books, dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert all(row.closing == 0 for row in report.rows)
    verbs = list(Activity.objects.filter(company=books, verb__startswith="ledger.entry").values_list("verb", flat=True))
    assert verbs.count("ledger.entry_posted") == 2 and verbs.count("ledger.entry_reversed") == 1
    with pytest.raises(ValidationFailed) as exc:
        reverse_entry(actor=accountant, entry=original, date=dt.date(2026, 4, 2))
    assert exc.value.code == "entry.not_reversible"


def test_a_reversal_is_allowed_on_an_account_deactivated_since(books, owner):
    original = post_sale(books, owner)
    set_account_active(actor=owner, account=account(books, "4000"), is_active=False)
    reversal = reverse_entry(actor=owner, entry=original, date=DAY)
    assert reversal.status == EntryStatus.POSTED


def test_bulk_posting_numbers_in_date_order_and_keeps_balances(books, owner):
    entries = [
        EntryInput(journal="SAL", date=dt.date(2026, 3, 20 - i), lines=sale(f"{i + 1}.00", company=books), reference=f"R{i}")
        for i in range(5)
    ] + [EntryInput(journal="PUR", date=DAY, lines=lines(("5000", "7", "0"), ("2100", "0", "7"), company=books))]
    result = post_entries_bulk(actor=owner, company=books, entries=entries, batch_size=4, record_each=True)

    assert (result.entries, result.lines) == (6, 12)
    by_ref = {e.reference: e for e in Entry.objects.for_company(books)}
    assert by_ref["R4"].number == "SAL/2026/000001" and by_ref["R0"].number == "SAL/2026/000005"
    assert all(e.status == EntryStatus.POSTED for e in by_ref.values())
    assert balance(books, "1200") == (Decimal("15.00"), Decimal("0"), 5)
    assert Activity.objects.filter(company=books, verb="ledger.entry_posted").count() == 6
    assert verify_balances(books).ok


def test_bulk_posting_validates_everything_before_writing(books, owner):
    before = counts(books)
    entries = [EntryInput(journal="SAL", date=DAY, lines=sale(company=books)) for _ in range(3)]
    entries.append(EntryInput(journal="SAL", date=DAY, lines=lines(("1200", "1", "0"), ("4000", "0", "2"), company=books)))
    with pytest.raises(ValidationFailed) as exc:
        post_entries_bulk(actor=owner, company=books, entries=entries, batch_size=2)
    assert exc.value.code == "entry.unbalanced" and exc.value.extra == {"entry": 3}
    assert counts(books) == before


def test_bulk_posting_records_one_activity_per_batch_by_default(books, owner):
    entries = [EntryInput(journal="SAL", date=DAY, lines=sale(company=books)) for _ in range(5)]
    result = post_entries_bulk(actor=owner, company=books, entries=entries, batch_size=6)
    activities = list(Activity.objects.filter(company=books, verb="ledger.entries_bulk_posted").order_by("seq"))
    assert [a.data["entries"] for a in activities] == [3, 2]
    assert activities[0].data["first_number"] == "SAL/2026/000001" and activities[1].data["last_number"] == "SAL/2026/000005"
    assert sorted(result.ids) == sorted(Entry.objects.for_company(books).values_list("pk", flat=True))


def test_a_large_bulk_batch_stores_every_line_as_given(books, owner):
    """A batch past the bulk threshold takes the set-based path (entries first on SQLite, with
    columns shared by all rows bound once); what is read back is exactly what was posted,
    optional fields set on some lines and empty on others."""
    from keel.ledger.guard import BULK_LINES

    party = Party.objects.create(company=books, name="Acme Ltd")
    centre = create_cost_centre(actor=owner, company=books, code="OPS", name="Operations")
    entries = []
    for i in range(BULK_LINES // 2 + 10):
        amount = Decimal(f"{i % 97 + 1}.{i % 100:02d}")
        tagged = i % 3 == 0
        entries.append(EntryInput("SAL", DAY + dt.timedelta(days=i % 20), reference=f"R{i}", source_type="test.doc",
                                  source_id=str(i), lines=[
            # 1210, not the receivables: their lines always name a party, and this one is optional.
            LineInput(account="1210", debit=amount, party=party.pk if tagged else None,
                      due_date=DAY + dt.timedelta(days=30) if tagged else None, label=f"line {i}" if i % 2 else ""),
            LineInput(account="4000", credit=amount, cost_centre="OPS" if tagged else None,
                      source_type="test.doc" if tagged else "", source_id=str(i) if tagged else ""),
        ]))
    result = post_entries_bulk(actor=owner, company=books, entries=entries)

    assert result.lines == 2 * len(entries) >= BULK_LINES
    stored = {
        (e.reference, line.position): line
        for e in Entry.objects.for_company(books).filter(pk__in=result.ids).prefetch_related("lines")
        for line in e.lines.all()
    }
    for i, entry in enumerate(entries):
        for position, given in enumerate(entry.lines):
            line = stored[(f"R{i}", position)]
            assert (line.debit, line.credit) == (Decimal(given.debit), Decimal(given.credit))
            assert line.amount_currency == Decimal(given.debit) - Decimal(given.credit)
            assert line.currency_id == "EUR" and line.rate == 1 and line.date == entry.date
            assert line.party_id == given.party and line.due_date == given.due_date and line.label == given.label
            assert line.cost_centre_id == (centre.pk if given.cost_centre else None)
            assert (line.source_type, line.source_id) == (given.source_type, given.source_id)
    assert trial_balance(books, DAY, DAY + dt.timedelta(days=30)).is_balanced
    assert verify_balances(books).ok


def test_lines_for_source_finds_a_documents_posted_lines(books, owner):
    from keel.ledger.selectors import lines_for_source

    post_entry(actor=owner, company=books, journal="SAL", date=DAY, lines=[
        LineInput(account="1200", party=party_for(books, "1200"), debit=Decimal("50"), source_type="billing.invoice", source_id="7"),
        LineInput(account="4000", credit=Decimal("50"), source_type="billing.invoice", source_id="7"),
    ])
    post_sale(books, owner, amount="20.00")
    found = list(lines_for_source(books, "billing.invoice", 7))
    assert [(line.position, line.debit, line.credit) for line in found] == [(0, 50, 0), (1, 0, 50)]
    assert not lines_for_source(books, "billing.invoice", "8").exists()
    assert not lines_for_source(books, "", "").exists()


def test_lines_for_source_uses_the_partial_source_index(books):
    """SQLite uses a partial index only when the query states its condition; the selector does."""
    from django.db import connection

    from keel.ledger.selectors import lines_for_source

    sql, params = lines_for_source(books, "billing.invoice", "7").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row) for row in cursor.fetchall())
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
    assert "ledger_line_source" in plan
