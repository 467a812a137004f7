"""Exports open as text in a spreadsheet: nothing a user typed runs as a formula."""

import io

import pytest

from keel.core.spreadsheet import csv_writer, safe_cell


@pytest.mark.parametrize(("typed", "written"), [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"), ("\uff1d1+1", "'\uff1d1+1"),
    ("-12.50", "-12.50"), ("+5", "+5"), ("Hooli Ltd", "Hooli Ltd"), ("", ""),
])
def test_text_that_would_run_is_kept_as_text(typed, written):
    assert safe_cell(typed) == written


def test_numbers_and_dates_are_left_alone():
    from datetime import date
    from decimal import Decimal

    assert safe_cell(Decimal("-3.10")) == Decimal("-3.10")
    assert safe_cell(date(2026, 1, 2)) == date(2026, 1, 2)


def test_the_csv_writer_escapes_every_row():
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    writer.writerow(["=1+1", "-4.00"])
    writer.writerows([["@x"]])
    assert out.getvalue() == "'=1+1,-4.00\n'@x\n"


def test_what_was_escaped_reads_back_as_typed():
    from keel.core.spreadsheet import unescape_cell

    for typed in ("=1+1", "@x", "-2+3", "Hooli", "-12.50", "'quoted"):
        assert unescape_cell(safe_cell(typed)) == typed
