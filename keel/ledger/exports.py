"""Any ledger report as CSV, XLSX (openpyxl) or PDF (reportlab).

Each report is first turned into one `Table` (title, subtitle, headers, rows of cells with
a style), and the three writers render that table, so a figure is the same in every format.
Amounts stay Decimals: CSV writes them as plain text with the currency's decimals, XLSX as
numbers with a number format, PDF as right-aligned text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from keel.core.exceptions import ValidationFailed
from keel.core.money import currency_decimals
from keel.core.spreadsheet import csv_writer, safe_cell
from keel.ledger.reports import GeneralLedger, Report, iter_ledger_lines
from keel.ledger.reports._common import range_label
from keel.ledger.reports.trial_balance import TrialBalanceReport

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


@dataclass
class Table:
    title: str
    subtitle: str
    headers: list[str]
    # Each row: (style, cells); style is heading | account | subtotal | total | info | line.
    rows: list[tuple[str, list]] = field(default_factory=list)
    # Indexes of the columns holding amounts (right-aligned, number-formatted).
    amount_columns: set[int] = field(default_factory=set)
    decimals: int = 2
    filename: str = "report"


def report_table(report: Report) -> Table:
    """The rows of a statement: code, label, amount [, comparison, variance, variance %]."""
    company = report.company
    subtitle = f"{company.legal_name} · {report.currency}"
    if report.kind == "budget_versus_actual":
        subtitle += budget_versus_actual_subtitle(report)
    if report.range.cost_centre is not None:
        subtitle += f" · cost centre {report.range.cost_centre.code}"
    headers = ["Code", "Account", report.amount_label]
    amount_columns = {2}
    if report.has_comparison:
        headers += [report.compare_label, "Variance", "Variance %"]
        amount_columns |= {3, 4}
    table = Table(report.title, subtitle, headers, amount_columns=amount_columns,
                  decimals=currency_decimals(report.currency),
                  filename=f"{report.kind.replace('_', '-')}-{report.range.date_to:%Y-%m-%d}")
    for row in report.rows:
        label = "  " * row.level + row.label
        cells = [row.code, label, row.amount]
        if report.has_comparison:
            cells += [row.compare, row.variance, row.variance_percent]
        table.rows.append((row.kind, cells))
    return table


def budget_versus_actual_subtitle(report: Report) -> str:
    """What the columns "Actual" and "Budget" cover: the whole months of the range (a budget is monthly)."""
    period = report.range
    months = (period.date_to.year - period.date_from.year) * 12 + period.date_to.month - period.date_from.month + 1
    return f" · {range_label(period.date_from, period.date_to)} ({months} month{'' if months == 1 else 's'})"


def ledger_table(ledger: GeneralLedger) -> Table:
    """Every line of the account in the range (not only one page), with opening and closing balances."""
    account, period = ledger.account, ledger.range
    subtitle = (f"{ledger.company.legal_name} · {ledger.currency} · {period.date_from:%Y-%m-%d} – "
                f"{period.date_to:%Y-%m-%d}")
    if period.cost_centre is not None:
        subtitle += f" · cost centre {period.cost_centre.code}"
    table = Table(f"General ledger: {account.code} {account.name}", subtitle,
                  ["Date", "Entry", "Journal", "Label", "Cost centre", "Debit", "Credit", "Balance"],
                  amount_columns={5, 6, 7}, decimals=currency_decimals(ledger.currency),
                  filename=f"general-ledger-{account.code}-{period.date_to:%Y-%m-%d}")
    table.rows.append(("info", [period.date_from, "", "", "Opening balance", "", None, None, ledger.opening]))
    for line in iter_ledger_lines(ledger.company, account, period, ledger.opening):
        table.rows.append(("line", [line.date, line.number, line.journal, line.label, line.cost_centre,
                                    line.debit or None, line.credit or None, line.balance]))
    table.rows.append(("total", [period.date_to, "", "", "Totals and closing balance", "", ledger.total_debit,
                                 ledger.total_credit, ledger.closing]))
    return table


# The CSV columns the trial balance has always had (the CLI's CSV has the same), then the comparison's.
TRIAL_BALANCE_HEADERS = ["code", "name", "type", "opening", "debit", "credit", "closing"]
TRIAL_BALANCE_COMPARE_HEADERS = ["compare opening", "compare debit", "compare credit", "compare closing", "variance"]


def trial_balance_table(report: TrialBalanceReport) -> Table:
    """Code, name, type, opening, debit, credit, closing per account [, the comparison's four and the
    variance of the closing balance], and a totals row."""
    company, period = report.company, report.range
    subtitle = f"{company.legal_name} · {report.currency} · {report.amount_label}"
    if report.has_comparison:
        subtitle += f" compared with {report.compare_label}"
    if period.cost_centre is not None:
        subtitle += f" · cost centre {period.cost_centre.code} (its lines only: totals need not balance)"
    headers = list(TRIAL_BALANCE_HEADERS)
    amount_columns = {3, 4, 5, 6}
    if report.has_comparison:
        headers += TRIAL_BALANCE_COMPARE_HEADERS
        amount_columns |= {7, 8, 9, 10, 11}
    table = Table(report.title, subtitle, headers, amount_columns=amount_columns,
                  decimals=currency_decimals(report.currency),
                  filename=f"trial-balance-{company.code}-{period.date_from:%Y-%m-%d}-{period.date_to:%Y-%m-%d}")
    for row in report.rows:
        cells = [row.code, row.name, row.account_type, row.opening, row.debit, row.credit, row.closing]
        if report.has_comparison:
            cells += [row.compare_opening, row.compare_debit, row.compare_credit, row.compare_closing, row.variance]
        table.rows.append(("account", cells))
    totals = ["", "Total", "", report.total_opening, report.total_debit, report.total_credit, report.total_closing]
    if report.has_comparison:
        totals += [report.compare_total_opening, report.compare_total_debit, report.compare_total_credit,
                   report.compare_total_closing, None]
    table.rows.append(("total", totals))
    return table


def tax_return_table(report, *, company, comparison=None) -> Table:
    """A tax return's boxes (name, amount, and the code and role behind each part), then the
    net tax payable. With `comparison` (services.taxes.ReturnComparison, a filed return) the
    amounts are the filed ones, next to the ledger's now and their difference."""
    subtitle = f"{company.legal_name} · {report.currency} · {range_label(report.date_from, report.date_to)}"
    filename = f"tax-return-{company.code}-{report.date_from:%Y-%m-%d}-{report.date_to:%Y-%m-%d}"
    decimals = currency_decimals(report.currency)
    if comparison is None:
        table = Table("Tax return", subtitle + " · not filed", ["Box", "Name", "Amount"], amount_columns={2},
                      decimals=decimals, filename=filename)
        for box in report.boxes:
            table.rows.append(("subtotal" if box.is_total else "account", [box.box, box.name, box.amount]))
            for part in box.parts:
                table.rows.append(("line", ["", f"  {part.tax_code.code} {part.role}", part.amount]))
        table.rows.append(("total", ["", "Net tax payable (negative: to reclaim)", report.net_payable]))
        return table
    filed = comparison.tax_return
    subtitle += f" · filed {timezone.localtime(filed.filed_at):%Y-%m-%d %H:%M}"
    table = Table("Tax return (filed)", subtitle, ["Box", "Name", "Filed", "Ledger now", "Difference to file"],
                  amount_columns={2, 3, 4}, decimals=decimals, filename=filename)
    for box in comparison.boxes:
        table.rows.append(("subtotal" if box.is_total else "account",
                           [box.box, box.name, box.filed, box.current, box.difference]))
    table.rows.append(("total", ["", "Net tax payable (negative: to reclaim)", comparison.filed_net_payable,
                                 comparison.current.net_payable, comparison.net_payable_difference]))
    return table


def _safe_text(value) -> str:
    """Text as a spreadsheet opens it: never run as a formula (keel.core.spreadsheet)."""
    return safe_cell("" if value is None else str(value))


def _amount_text(value, decimals: int) -> str:
    if value is None:
        return ""
    return f"{value:.{decimals}f}" if isinstance(value, Decimal) else str(value)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow([table.title])
    writer.writerow([table.subtitle])
    writer.writerow(table.headers)
    for _style, cells in table.rows:
        writer.writerow([
            _amount_text(cell, 1 if table.headers[i] == "Variance %" else table.decimals)
            if isinstance(cell, Decimal) else _safe_text(cell.isoformat() if hasattr(cell, "isoformat") else cell)
            for i, cell in enumerate(cells)
        ])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.title[:31].replace(":", " ").replace("/", " ")
    sheet.append([safe_cell(table.title)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([safe_cell(table.subtitle)])
    sheet.append([safe_cell(header) for header in table.headers])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    number_format = "#,##0" + ("." + "0" * table.decimals if table.decimals else "")
    for style, cells in table.rows:
        values = []
        for cell in cells:
            if isinstance(cell, Decimal):
                values.append(cell)  # openpyxl writes Decimals as numbers
            elif isinstance(cell, str):
                values.append(_safe_text(cell))
            else:
                values.append(cell)
        sheet.append(values)
        row = sheet[sheet.max_row]
        for index, cell in enumerate(row):
            if index in table.amount_columns:
                cell.number_format = number_format
                cell.alignment = Alignment(horizontal="right")
            elif table.headers[index] == "Variance %":
                cell.number_format = "0.0"
            elif hasattr(cell.value, "year"):
                cell.number_format = "yyyy-mm-dd"
            if style in ("total", "subtotal", "heading"):
                cell.font = Font(bold=True)
    widths = [max(len(str(table.headers[i])), 10) for i in range(len(table.headers))]
    for _style, cells in table.rows[:500]:
        for i, cell in enumerate(cells):
            widths[i] = min(max(widths[i], len(str(cell or "")) + 2), 60)
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_pdf(table: Table) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    out = io.BytesIO()
    wide = len(table.headers) > 4
    document = SimpleDocTemplate(out, pagesize=landscape(A4) if wide else A4, title=table.title,
                                 leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    styles = getSampleStyleSheet()

    def text(cell, index) -> str:
        if isinstance(cell, Decimal):
            decimals = 1 if table.headers[index] == "Variance %" else table.decimals
            return f"{cell:,.{decimals}f}"
        if cell is None:
            return ""
        return cell.isoformat() if hasattr(cell, "isoformat") else str(cell)

    wrapped = styles["Normal"].clone("cell", fontSize=8, leading=9)

    def fit(value: str):  # long labels (a tax box's official name) wrap within the page
        return Paragraph(_escape(value), wrapped) if len(value) > 60 else value

    data = [table.headers] + [[fit(text(cell, i)) for i, cell in enumerate(cells)] for _s, cells in table.rows]
    grid = PdfTable(data, repeatRows=1)
    commands = [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index in table.amount_columns | {i for i, h in enumerate(table.headers) if h == "Variance %"}:
        commands.append(("ALIGN", (index, 0), (index, -1), "RIGHT"))
    for number, (style, _cells) in enumerate(table.rows, start=1):
        if style in ("total", "subtotal", "heading"):
            commands.append(("FONTNAME", (0, number), (-1, number), "Helvetica-Bold"))
        if style == "total":
            commands.append(("LINEABOVE", (0, number), (-1, number), 0.5, colors.black))
    grid.setStyle(commands)
    document.build([Paragraph(_escape(table.title), styles["Title"]), Paragraph(_escape(table.subtitle), styles["Normal"]),
                    Spacer(1, 6 * mm), grid])
    return out.getvalue()


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}


def render(subject: Report | GeneralLedger | TrialBalanceReport | Table, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of a report, general ledger, trial balance or a table
    made already (tax_return_table) in `fmt` (csv, xlsx or pdf)."""
    fmt = (fmt or "").lower()
    if fmt not in WRITERS:
        raise ValidationFailed("Choose csv, xlsx or pdf.", code="report.invalid_format", field="format")
    if isinstance(subject, Table):
        table = subject
    elif isinstance(subject, GeneralLedger):
        table = ledger_table(subject)
    elif isinstance(subject, TrialBalanceReport):
        table = trial_balance_table(subject)
    else:
        table = report_table(subject)
    return WRITERS[fmt](table), FORMATS[fmt], f"{table.filename}.{fmt}"
