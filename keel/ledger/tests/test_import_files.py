"""The journal import from real files (issue 11 §7, issue 17): separators and byte-order marks,
a quote left open, several bad rows of one entry, the same file twice, the template, the
import's page and its entries, streaming in batches that roll back as a whole, and the fast
path that reads amounts exactly as parse_amount does. Every refusal writes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.api.tests.conftest import ApiClient, assert_error
from keel.core.exceptions import ValidationFailed
from keel.core.models import Activity
from keel.core.money import parse_amount
from keel.core.services.parties import create_party
from keel.ledger.models import Entry, EntryImport, Line
from keel.ledger.services import importing
from keel.ledger.services.balances import verify_balances
from keel.ledger.services.importing import import_entries
from keel.ledger.services.posting import LineInput, PrevalidatedValidator

pytestmark = pytest.mark.django_db

ROWS = [
    ["entry", "date", "journal", "account", "label", "debit", "credit"],
    ["A1", "2026-03-01", "GEN", "6100", "Rent; March", "1500.00", ""],
    ["A1", "2026-03-01", "GEN", "1400", "", "", "1500.00"],
    ["A2", "2026-03-02", "GEN", "6100", "Water", "12.50", ""],
    ["A2", "2026-03-02", "GEN", "1400", "", "", "12.50"],
]


def _csv(rows, delimiter=",", end="\n"):
    def cell(value):
        return f'"{value}"' if delimiter in value else value

    return "".join(delimiter.join(cell(v) for v in row) + end for row in rows)


def _state(company):
    return (Entry.objects.filter(company=company).count(), Line.objects.filter(company=company).count(),
            EntryImport.objects.filter(company=company).count(), Activity.objects.filter(company=company).count())


def _import(company, actor, text, **kwargs):
    return import_entries(actor=actor, company=company, text=text, **kwargs)


# -- separators, byte-order mark ------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["plain", "bom"])
@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_the_separator_is_detected_with_or_without_a_byte_order_mark(books, accountant, delimiter, bom, end):
    # Given the same journal written with each separator (the label holds a semicolon)
    text = bom + _csv(ROWS, delimiter, end)
    # When it is imported
    result = _import(books, accountant, text)
    # Then both entries are posted with their amounts and labels, whatever the separator
    assert result.errors == [] and result.posted and (result.entries, result.lines) == (2, 4)
    assert result.delimiter == delimiter
    lines = Line.objects.filter(company=books).order_by("entry__date", "position")
    assert [(line.account.code, line.label, line.debit, line.credit) for line in lines] == [
        ("6100", "Rent; March", Decimal("1500.00"), Decimal("0")),
        ("1400", "", Decimal("0"), Decimal("1500.00")),
        ("6100", "Water", Decimal("12.50"), Decimal("0")),
        ("1400", "", Decimal("0"), Decimal("12.50")),
    ]
    assert verify_balances(books).ok


def test_a_semicolon_file_with_decimal_commas_is_refused_with_the_fix(books, accountant):
    # Given a spreadsheet's semicolon export with decimal commas
    before = _state(books)
    text = "entry;date;journal;account;label;debit;credit\nA1;2026-03-01;GEN;6100;;12,50;\nA1;2026-03-01;GEN;1400;;;12,50\n"
    # When it is imported
    result = _import(books, accountant, text)
    # Then each amount is named with how to write it, and nothing is written
    assert [str(p) for p in result.errors] == [
        "line 2: The debit '12,50' is not a number; use a decimal point (12.50).",
        "line 3: The credit '12,50' is not a number; use a decimal point (12.50).",
    ]
    assert _state(books) == before


# -- a quote left open ----------------------------------------------------------------------


def test_a_quote_left_open_is_named_with_its_line_and_nothing_is_imported(books, accountant):
    # Given a file whose label on line 4 opens a quote it never closes, with good entries after it
    rows = _csv(ROWS).splitlines(keepends=True)
    text = "".join(rows[:3]) + 'A2,2026-03-02,GEN,6100,"Water,12.50,\n' + rows[4] + _csv(
        [["A3", "2026-03-03", "GEN", "6100", "", "1.00", ""], ["A3", "2026-03-03", "GEN", "1400", "", "", "1.00"]])
    before = _state(books)
    # When it is imported (or only checked)
    for dry_run in (True, False):
        with pytest.raises(ValidationFailed) as refused:
            _import(books, accountant, text, dry_run=dry_run)
        # Then the refusal names line 4, and not a single row was taken
        assert refused.value.code == "import.malformed"
        assert refused.value.message == ("The file is not readable CSV at line 4: a quote is left open (a field runs "
                                         "past the end of its line).")
    assert _state(books) == before


def test_a_quote_left_open_at_the_end_of_the_file_is_named(books, accountant):
    text = _csv(ROWS) + 'A3,2026-03-03,GEN,6100,"unfinished,1.00,\n'
    before = _state(books)
    with pytest.raises(ValidationFailed) as refused:
        _import(books, accountant, text)
    assert refused.value.message.startswith("The file is not readable CSV at line 6: a quote is left open")
    assert _state(books) == before


def test_a_quoted_separator_or_quote_inside_a_field_is_read(books, accountant):
    text = _csv(ROWS[:1]) + 'A1,2026-03-01,GEN,6100,"Rent, ""March""",1500.00,\nA1,2026-03-01,GEN,1400,,,1500.00\n'
    result = _import(books, accountant, text)
    assert result.posted and Line.objects.get(company=books, account__code="6100").label == 'Rent, "March"'


# -- several bad rows of one entry ----------------------------------------------------------


def test_every_bad_row_of_one_entry_is_named(books, accountant):
    # Given one entry whose three rows are each wrong in a different way, one wrong by the
    # posting rules only (three decimals), one by the row checks, one by both
    before = _state(books)
    text = _csv([ROWS[0],
                 ["B1", "2026-03-01", "GEN", "6100", "", "10.001", ""],
                 ["B1", "2026-03-01", "GEN", "9999", "", "", "5"],
                 ["B1", "2026-03-01", "GEN", "1400", "", "", "5.005"],
                 ["B2", "2026-03-01", "XXX", "6100", "", "1", ""],
                 ["B2", "2026-03-01", "XXX", "1400", "", "", "1"]])
    # When it is imported
    result = _import(books, accountant, text)
    # Then each of its rows is named, and each row of the entry with a bad journal too
    assert [str(p) for p in result.errors] == [
        "line 2: debit: At most 2 decimals are allowed here; got '10.001'.",
        "line 3: no account '9999' in the chart",
        "line 4: credit: At most 2 decimals are allowed here; got '5.005'.",
        "line 5: no journal 'XXX'",
        "line 6: no journal 'XXX'",
    ]
    assert result.problem_count == 5 and not result.posted
    assert _state(books) == before


def test_the_rows_of_an_entry_must_stand_together(books, accountant):
    before = _state(books)
    text = _csv([ROWS[0], ROWS[1], ROWS[3], ROWS[4], ROWS[2]])
    result = _import(books, accountant, text)
    assert [str(p) for p in result.errors] == [
        "entry A1 (line 2): An entry has at least two lines.",
        "line 5: entry A1 has rows earlier in the file, separated from these by other entries: keep the rows of an "
        "entry together",
    ]
    assert _state(books) == before


def test_past_the_listed_problems_the_rest_are_counted(books, accountant, monkeypatch):
    monkeypatch.setattr(importing, "MAX_LISTED_PROBLEMS", 3)
    text = _csv([ROWS[0]] + [[f"X{n}", "2026-03-01", "GEN", "9999", "", "1", ""] for n in range(10)])
    result = _import(books, accountant, text)
    assert [p.line for p in result.errors] == [2, 3, 4]
    assert (result.problem_count, result.unlisted_problems) == (10, 7)


# -- the same file twice --------------------------------------------------------------------


def test_the_same_file_imported_twice_is_refused_unless_confirmed(books, accountant):
    text = _csv(ROWS)
    first = _import(books, accountant, text, file_name="march.csv")
    assert first.posted
    before = _state(books)
    # When the same file is imported again
    with pytest.raises(ValidationFailed) as refused:
        _import(books, accountant, text, file_name="march-again.csv")
    # Then it is refused with the earlier import named, and nothing is written
    assert refused.value.code == "import.repeated_file" and refused.value.fields == {"file": [refused.value.message]}
    assert f"import #{first.import_id}: 2 entries, {first.first_number} .. {first.last_number}" in refused.value.message
    assert _state(books) == before
    # And a check-only run of it is refused the same way
    with pytest.raises(ValidationFailed):
        _import(books, accountant, text, dry_run=True)
    # When the importer confirms it
    again = _import(books, accountant, text, file_name="march-again.csv", accept_repeat=True)
    # Then it is imported, and the new import names the one it repeats
    assert again.posted and Entry.objects.filter(company=books).count() == 4
    assert EntryImport.objects.get(pk=again.import_id).repeat_of_id == first.import_id


def test_a_refused_file_leaves_no_import_so_its_corrected_copy_is_not_a_repeat(books, accountant):
    bad = _csv(ROWS[:2] + [["A1", "2026-03-01", "GEN", "1400", "", "", "1499.00"]])
    assert not _import(books, accountant, bad).posted
    assert EntryImport.objects.filter(company=books).count() == 0
    assert _import(books, accountant, bad.replace("1499.00", "1500.00")).posted


def test_the_cli_refuses_a_repeated_file_unless_accept_repeat(books, tmp_path):
    path = tmp_path / "journal.csv"
    path.write_text(_csv(ROWS), encoding="utf-8")
    out = io.StringIO()
    call_command("ledger", "import-entries", str(path), "--company", "acme", stdout=out, stderr=io.StringIO())
    batch = EntryImport.objects.get(company=books)
    assert out.getvalue().endswith(f"posted ({batch.first_number} .. {batch.last_number}), import #{batch.pk}.\n")
    before = _state(books)
    with pytest.raises(CommandError, match=r"imported already .*\[import.repeated_file\]"):
        call_command("ledger", "import-entries", str(path), "--company", "acme", stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert _state(books) == before
    call_command("ledger", "import-entries", str(path), "--company", "acme", "--accept-repeat", stdout=io.StringIO(),
                 stderr=io.StringIO())
    assert Entry.objects.filter(company=books).count() == 4


# -- the page: template, help, landing on the imported entries ------------------------------


@pytest.fixture
def web(books, accountant, client_for):
    return client_for(accountant)


def test_the_template_lists_every_column_and_imports_as_it_is(books, owner, web):
    # Given the party the template's sales entry names
    create_party(actor=owner, company=books, name="Hooli Ltd", roles=["customer"])
    # When the template is downloaded
    response = web.get("/ledger/entries/import/template/")
    # Then it is a CSV whose header is every column the help lists
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode()
    assert body.splitlines()[0].split(",") == [name for name, _required, _help in importing.COLUMNS]
    page = web.get("/ledger/entries/import/").content.decode()
    for name, _required, help_text in importing.COLUMNS:
        assert f"<code>{name}</code>" in page and help_text.replace("'", "&#x27;") in page
    # And the example it holds imports cleanly
    result = import_entries(actor=owner, company=books, text=body)
    assert result.errors == [] and (result.entries, result.lines) == (2, 5)
    sale = Line.objects.get(company=books, account__code="1200")
    assert sale.party.name == "Hooli Ltd" and str(sale.due_date) == "2026-04-04"


def test_after_an_import_the_user_lands_on_its_entries_and_each_links_to_it(books, web):
    # When a file is uploaded on the page
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("march.csv", _csv(ROWS).encode())})
    # Then the user lands on the import's page, which lists the imported entries
    batch = EntryImport.objects.get(company=books)
    assert response.status_code == 302 and response["Location"] == f"/ledger/imports/{batch.pk}/"
    page = web.get(response["Location"]).content.decode()
    entries = list(Entry.objects.filter(company=books).order_by("date"))
    assert "march.csv" in page and batch.file_digest in page
    for entry in entries:
        assert f'href="/ledger/entries/{entry.pk}/"' in page and entry.number in page
    # And each entry names the import as its source, with a link to it
    assert {(e.source_type, e.source_id) for e in entries} == {("ledger.import", str(batch.pk))}
    detail = web.get(f"/ledger/entries/{entries[0].pk}/").content.decode()
    assert f'href="/ledger/imports/{batch.pk}/"' in detail
    # And the import form lists it among the recent imports
    assert f'href="/ledger/imports/{batch.pk}/"' in web.get("/ledger/entries/import/").content.decode()


def test_the_page_asks_to_confirm_a_repeated_file(books, web):
    data = _csv(ROWS).encode()
    web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("march.csv", data)})
    before = _state(books)
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("march.csv", data)})
    assert response.status_code == 200 and "imported already" in response.context["form"].errors["file"][0]
    assert _state(books) == before
    response = web.post("/ledger/entries/import/", {"file": SimpleUploadedFile("march.csv", data),
                                                    "accept_repeat": "on"})
    assert response.status_code == 302 and Entry.objects.filter(company=books).count() == 4


def test_an_import_page_of_another_company_is_not_found(books, other_books, web):
    batch = EntryImport.objects.create(company=other_books, file_name="x.csv", file_digest="0" * 64)
    assert web.get(f"/ledger/imports/{batch.pk}/").status_code == 404


# -- the API --------------------------------------------------------------------------------


def test_the_api_imports_reports_problems_and_refuses_a_repeat(books, owner):
    api = ApiClient(owner, books)

    def upload(data, **fields):
        return api.client.post("/api/ledger/entry-imports", headers=api.headers,
                               data={"file": SimpleUploadedFile("march.csv", data), **fields})

    before = _state(books)
    bad = _csv(ROWS[:2] + [["A1", "2026-03-01", "GEN", "9999", "", "", "1500.00"]]).encode()
    body = assert_error(upload(bad), 400, "import.invalid")
    assert body["problems"] == [{"line": 3, "entry": "A1", "message": "no account '9999' in the chart",
                                 "code": "import.invalid"}] and body["problem_count"] == 1
    assert _state(books) == before
    checked = upload(_csv(ROWS).encode(), dry_run="true")
    assert checked.status_code == 200 and checked.json()["dry_run"] and checked.json()["lines"] == 4
    assert _state(books) == before
    created = upload(_csv(ROWS).encode())
    assert created.status_code == 201, created.content
    assert (created.json()["entries"], created.json()["lines"]) == (2, 4)
    assert api.get(f"/api/ledger/entry-imports/{created.json()['id']}").json()["file_name"] == "march.csv"
    assert_error(upload(_csv(ROWS).encode()), 400, "import.repeated_file")
    assert upload(_csv(ROWS).encode(), accept_repeat="true").status_code == 201
    assert [row["id"] for row in api.get("/api/ledger/entry-imports").json()["items"]][1] == created.json()["id"]


# -- streaming: batches written as the file is read, all rolled back on a late bad row -------


def _journal(entries, bad_at=None):
    rows = [ROWS[0]]
    for n in range(entries):
        day = f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
        debit = "xyz" if n == bad_at else f"{n + 2}.25"
        rows += [[f"E{n}", day, "GEN", "6100", f"line {n}", debit, ""],
                 [f"E{n}", day, "GEN", "1400", "", "", f"{n + 1}.00"],
                 [f"E{n}", day, "GEN", "1450", "", "", "1.25"]]
    return _csv(rows)


def test_a_bad_row_late_in_a_big_file_rolls_back_the_batches_written_before_it(books, accountant, monkeypatch):
    # Given batches of 30 lines, and a file of 300 entries whose 290th has a bad amount
    monkeypatch.setattr(importing, "BATCH_LINES", 30)
    written = []
    real = importing.post_validated_entries

    def spy(**kwargs):
        written.append(len(kwargs["entries"]))
        return real(**kwargs)

    monkeypatch.setattr(importing, "post_validated_entries", spy)
    before = _state(books)
    # When it is imported
    result = _import(books, accountant, _journal(300, bad_at=289))
    # Then batches were written while the file was read, and all of them were undone
    assert len(written) >= 9 and sum(written) >= 280
    assert [str(p) for p in result.errors] == ["line 869: The debit 'xyz' is not a number."]
    assert not result.posted and (result.entries, result.lines) == (0, 0)
    assert _state(books) == before
    assert verify_balances(books).ok
    # And the corrected file goes in whole, numbered in date order within each batch
    result = _import(books, accountant, _journal(300))
    assert result.posted and (result.entries, result.lines) == (300, 900)
    assert Entry.objects.filter(company=books, source_id=str(result.import_id)).count() == 300
    assert verify_balances(books).ok


def test_a_period_closed_before_a_late_batch_refuses_the_whole_file(books, accountant, monkeypatch):
    from keel.ledger.choices import PeriodStatus
    from keel.ledger.models import Period

    monkeypatch.setattr(importing, "BATCH_LINES", 30)
    before = _state(books)
    # Given December closed after validation would have seen it open (its entries are at the end)
    real = importing.post_validated_entries
    calls = []

    def close_december(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            Period.objects.filter(company=books, start__month=12, start__year=2026).update(status=PeriodStatus.CLOSED)
        return real(**kwargs)

    monkeypatch.setattr(importing, "post_validated_entries", close_december)
    rows = [ROWS[0]] + [[f"E{n}", f"2026-{(n * 12 // 60) + 1:02d}-05", "GEN", acc, "", d, c]
                        for n in range(60) for acc, d, c in (("6100", "1.00", ""), ("1400", "", "1.00"))]
    result = _import(books, accountant, _csv(rows))
    assert not result.posted and result.errors[0].code == "period.closed"
    assert _state(books) == before


# -- the fast path reads exactly what the full checks read ----------------------------------

AMOUNT_TEXT = st.text(alphabet="0123456789.,-+ e_", min_size=1, max_size=18)


@settings(max_examples=400, deadline=None)
@given(AMOUNT_TEXT, st.sampled_from([0, 2, 3]))
def test_an_amount_the_fast_path_takes_is_what_parse_amount_reads(text, decimals):
    if importing.fast_number(decimals)(text):
        parsed = parse_amount(text, decimals=decimals)
        assert Decimal(text) == parsed and Decimal(text).as_tuple() == parsed.as_tuple()


@pytest.mark.django_db
def test_a_fast_line_is_the_line_the_posting_checks_build(books):
    validator = PrevalidatedValidator(books)
    matcher = importing.fast_number(2)
    fast_lines = 0

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from(["6100", "1400", "4000"]),
           st.one_of(st.just(""), st.from_regex(r"[0-9]{1,11}(\.[0-9]{1,3})?", fullmatch=True)),
           st.one_of(st.just(""), st.from_regex(r"[0-9]{1,11}(\.[0-9]{1,3})?", fullmatch=True)),
           st.text(max_size=5))
    def check(account, debit_raw, credit_raw, label):
        nonlocal fast_lines
        # What the import's fast path builds, when it takes the row ...
        run = importing._Import(actor=None, company=books, dry_run=True, progress=None, total_bytes=0)
        ok = all(raw == "" or matcher(raw) for raw in (debit_raw, credit_raw))
        if not ok:
            return
        debit = Decimal(debit_raw) if debit_raw else Decimal(0)
        credit = Decimal(credit_raw) if credit_raw else Decimal(0)
        if not ((not debit or not credit) and (debit or credit)):
            return
        fast_lines += 1
        built = importing.ValidatedLine(run.plain_accounts[account], label.strip(), debit, credit, "EUR",
                                        debit - credit, Decimal(1), None, None, "", None, None, "", "")
        # ... equals what the posting service's full checks build from the same values
        full = validator.line(LineInput(account=account, debit=parse_amount(debit_raw) if debit_raw else Decimal(0),
                                        credit=parse_amount(credit_raw) if credit_raw else Decimal(0),
                                        label=label.strip()), 0, None, 0, True)
        assert tuple(built) == tuple(full)

    check()
    assert fast_lines > 20


def test_an_entry_of_plain_lines_is_the_entry_the_posting_checks_build(books):
    import datetime as dt

    from keel.ledger.services.posting import EntryInput

    run = importing._Import(actor=None, company=books, dry_run=True, progress=None, total_bytes=0)
    validator = PrevalidatedValidator(books)

    def group(journal, day, amounts):
        lines = [validator.line(LineInput(account="6100", debit=Decimal(d)), 0, day, 0, True) for d in amounts[0]]
        lines += [validator.line(LineInput(account="1400", credit=Decimal(c)), 1, day, 0, True) for c in amounts[1]]
        return importing._Group(key="K", first_line=2, index=0, date_raw=str(day), journal_raw=journal, date=day,
                                date_problem="", journal_problem="", reference="R" * 120, description="D",
                                lines=lines)

    day = dt.date(2026, 3, 5)
    built = run.plain_entry(group("GEN", day, (["10.00", "2.50"], ["12.50"])))
    full = validator.entry(EntryInput("GEN", day, group("GEN", day, (["10.00", "2.50"], ["12.50"])).lines,
                                      "R" * 100, "D", "ledger.import", ""), 0)
    assert built == full
    # Anything the fast path does not take is left to the posting checks (which name it)
    assert run.plain_entry(group("GEN", day, (["10.00"], ["9.00"]))) is None  # unbalanced
    assert run.plain_entry(group("NOPE", day, (["1.00"], ["1.00"]))) is None  # unknown journal
    assert run.plain_entry(group("GEN", dt.date(2031, 1, 1), (["1.00"], ["1.00"]))) is None  # no period
    assert run.plain_entry(group("GEN", day, (["1.00"], []))) is None  # one line


def test_a_repeat_committed_meanwhile_is_found_inside_the_transaction(books, accountant, monkeypatch):
    # Given the same file imported by someone else between the first check and the writing
    text = _csv(ROWS)
    assert _import(books, accountant, text).posted
    before = _state(books)
    real = importing.find_earlier_import
    calls = []

    def not_yet_the_first_time(company, digest):
        calls.append(digest)
        return None if len(calls) == 1 else real(company, digest)

    monkeypatch.setattr(importing, "find_earlier_import", not_yet_the_first_time)
    # When it is imported
    with pytest.raises(ValidationFailed) as refused:
        _import(books, accountant, text)
    # Then the check inside the import's transaction refuses it, and nothing is written
    assert refused.value.code == "import.repeated_file" and len(calls) == 2
    assert _state(books) == before


def test_the_key_set_remembers_every_key_through_its_growth():
    keys = importing._KeySet()
    assert all(keys.add(f"E{n}") for n in range(5000))
    assert keys.count == 5000 and len(keys.table) >= 5000 * 4 // 3
    assert not any(keys.add(f"E{n}") for n in range(0, 5000, 7))
    assert keys.add("E5000") and keys.add("")
