"""The aging report and a party's statement as export tables (keel.ledger.exports writes
them as CSV, XLSX or PDF with reportlab), so a figure is the same on the page and in every file."""

from __future__ import annotations

import datetime as dt

from keel.core.money import currency_decimals
from keel.ledger.exports import FORMATS, WRITERS, Table
from keel.ledger.reports.aging import BUCKET_KEYS, BUCKET_LABELS, AgingReport, OpenLine


def aging_table(report: AgingReport) -> Table:
    """Party, the five buckets and the total per party, and a totals row."""
    subtitle = (f"{report.company.legal_name} · {report.currency} · as of {report.as_of:%Y-%m-%d} · "
                f"by due date, else entry date")
    table = Table(report.title, subtitle, ["Party", *[BUCKET_LABELS[key] for key in BUCKET_KEYS], "Total"],
                  amount_columns=set(range(1, len(BUCKET_KEYS) + 2)), decimals=currency_decimals(report.currency),
                  filename=f"aging-{report.kind}-{report.company.code}-{report.as_of:%Y-%m-%d}")
    for row in report.rows:
        table.rows.append(("account", [row.party_name, *row.amounts(), row.total]))
    table.rows.append(("total", ["Total", *[report.totals[key] for key in BUCKET_KEYS], report.total]))
    return table


def statement_table(company, party, as_of: dt.date, lines: list[OpenLine], aging: list[AgingReport]) -> Table:
    """A party's statement: its open items on `as_of` (receivable and payable), then its aging."""
    base = company.base_currency_id
    table = Table(f"Statement of account: {party.name}",
                  f"{company.legal_name} · as of {as_of:%Y-%m-%d} · amounts in {base} (a foreign item's amount too)",
                  ["Date", "Entry", "Account", "Label", "Due", "Days overdue", "Open", "Open (item currency)"],
                  amount_columns={6}, decimals=currency_decimals(base),
                  filename=f"statement-{company.code}-{party.pk}-{as_of:%Y-%m-%d}")
    for item in lines:
        line = item.line
        foreign = "" if line.currency_id == base else f"{item.open_amount_currency:,.{line.currency.decimals}f} {line.currency_id}"
        table.rows.append(("line", [line.date, line.entry.number, line.account.code, line.label, item.due,
                                    str(max(item.days_overdue, 0)), item.open_amount, foreign]))
    for report in aging:
        if not report.rows:
            continue
        table.rows.append(("heading", [report.title, "", "", "", "", "", None, ""]))
        for key in BUCKET_KEYS:
            table.rows.append(("info", ["", "", "", BUCKET_LABELS[key], "", "", report.totals[key], ""]))
        table.rows.append(("total", ["", "", "", "Total", "", "", report.total, ""]))
    return table


def render_table(table: Table, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, file name); `fmt` is csv, xlsx or pdf (checked by the caller)."""
    return WRITERS[fmt](table), FORMATS[fmt], f"{table.filename}.{fmt}"
