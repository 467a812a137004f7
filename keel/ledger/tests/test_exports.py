"""Exports: every report as CSV, XLSX (read back with openpyxl) and PDF (read back with pypdf)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from keel.core.exceptions import ValidationFailed
from keel.ledger.exports import render
from keel.ledger.reports import (
    balance_sheet,
    cash_flow,
    general_ledger,
    get_account,
    iter_ledger_lines,
    profit_and_loss,
    report_range,
)
from keel.ledger.tests.test_reports import post, post_story

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(books):
    return post_story(books)


def q1(company, **extra):
    return report_range(company, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31), **extra)


def sheet_rows(content: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(content))
    return list(workbook.active.iter_rows(values_only=True))


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_profit_and_loss_as_xlsx_reads_back_with_the_figures(story):
    period = q1(story, compare_from=dt.date(2025, 1, 1), compare_to=dt.date(2025, 3, 31))
    content, content_type, filename = render(profit_and_loss(story, period), "xlsx")
    assert content_type.endswith("spreadsheetml.sheet") and filename == "profit-and-loss-2026-03-31.xlsx"
    rows = sheet_rows(content)
    assert rows[0][0] == "Profit and loss" and "Acme Trading Ltd" in rows[1][0]
    assert rows[2] == ("Code", "Account", "2026-01-01 – 2026-03-31", "2025-01-01 – 2025-03-31", "Variance",
                       "Variance %")
    by_label = {row[1].strip(): row for row in rows[3:]}
    assert Decimal(str(by_label["Sales of goods"][2])) == Decimal("1000")
    assert by_label["Sales of goods"][0] == "4000"
    net = by_label["Net result"]
    assert (Decimal(str(net[2])), Decimal(str(net[3])), Decimal(str(net[4]))) == (Decimal("550"), 0, Decimal("550"))


def test_balance_sheet_as_pdf_contains_the_totals(story):
    report = balance_sheet(story, report_range(story, date_from=None, date_to=dt.date(2026, 3, 31), as_of=True))
    content, content_type, filename = render(report, "pdf")
    assert content_type == "application/pdf" and filename.endswith(".pdf")
    text = pdf_text(content)
    assert "Balance sheet" in text and "Total assets" in text and "15,800.00" in text
    assert "Total liabilities and equity" in text and "10,550.00" in text


def test_cash_flow_as_csv(story):
    content, content_type, _ = render(cash_flow(story, q1(story)), "csv")
    assert content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    by_label = {row[1].strip(): row for row in rows[3:]}
    assert by_label["Net cash from operating activities"][2] == "400.00"
    assert by_label["Net change in cash"][2] == "13400.00"
    assert by_label["Cash at the end of the period"][2] == "13400.00"


def test_the_general_ledger_export_has_every_line_and_the_balances(story):
    bank = get_account(story, "1400")
    ledger = general_ledger(story, bank, q1(story), size=1)  # one line per page: the export still has all
    rows = sheet_rows(render(ledger, "xlsx")[0])
    assert rows[0][0] == "General ledger: 1400 Bank"
    body = rows[3:]
    assert body[0][3] == "Opening balance" and body[-1][3] == "Totals and closing balance"
    assert [Decimal(str(row[7])) for row in body[1:-1]] == [Decimal(v) for v in ("10000", "15000", "15700", "15400",
                                                                                   "13400")]
    assert Decimal(str(body[-1][7])) == Decimal("13400")
    assert "13,400.00" in pdf_text(render(ledger, "pdf")[0])


def test_a_label_that_looks_like_a_formula_is_neutralised(story):
    from keel.ledger.services import LineInput, post_entry

    post_entry(actor=None, company=story, journal="GEN", date=dt.date(2026, 3, 5), check_permission=False, lines=[
        LineInput(account="1400", debit=Decimal("1"), label="=HYPERLINK(\"http://evil\")"),
        LineInput(account="4900", credit=Decimal("1"))])
    ledger = general_ledger(story, get_account(story, "1400"), q1(story))
    text = render(ledger, "csv")[0].decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert any(str(row[3]).startswith("'=") for row in sheet_rows(render(ledger, "xlsx")[0]) if row[3])


def test_an_unknown_format_is_refused(story):
    with pytest.raises(ValidationFailed):
        render(profit_and_loss(story, q1(story)), "docx")


def test_a_large_general_ledger_exports_in_chunks(story):
    for day in range(1, 29):
        post(story, dt.date(2026, 2, day), ("1400", "1", "0"), ("4900", "0", "1"))
    ledger = general_ledger(story, get_account(story, "1400"), q1(story))
    lines = list(iter_ledger_lines(story, ledger.account, ledger.range, ledger.opening, chunk=7))
    assert len(lines) == 33 and lines[-1].balance == ledger.closing == Decimal("13428.00")
    assert [line.date for line in lines] == sorted(line.date for line in lines)
