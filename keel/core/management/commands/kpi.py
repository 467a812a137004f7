"""`keel kpi`: each KPI's value for a period, with its unit and target."""

from __future__ import annotations

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from keel.core.management.commands._common import companies, parse_date
from keel.insights.selectors import read_kpis


def _text(value) -> str | None:
    return None if value is None else str(value)


class Command(BaseCommand):
    help = "Print each KPI's value for a company (or every company) and a period, with unit and target."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="code of one company (default: every company)")
        parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (default: 29 days before --to)")
        parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (default: today)")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, company: str | None, date_from: str | None, date_to: str | None, format: str, **options):
        end = parse_date(date_to, option="--to") or timezone.localdate()
        start = parse_date(date_from, option="--from") or end - dt.timedelta(days=29)
        if start > end:
            raise CommandError(f"--from ({start}) is after --to ({end}).")
        results = []
        for each in companies(company):
            for reading in read_kpis(each, start, end, with_series=False):
                results.append(
                    {
                        "company": each.code,
                        "code": reading.kpi.code,
                        "name": reading.kpi.name,
                        "value": _text(reading.value),
                        "unit": reading.kpi.unit,
                        "target": _text(reading.target),
                        "on_target": reading.on_target,
                        "higher_is_better": reading.kpi.higher_is_better,
                    }
                )
        if format == "json":
            document = {"from": start.isoformat(), "to": end.isoformat(), "kpis": results}
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        table = Table(title=f"KPIs from {start.isoformat()} to {end.isoformat()}")
        for column, justify in (("company", "left"), ("KPI", "left"), ("value", "right"), ("unit", "left"),
                                ("target", "right"), ("on target", "center")):
            table.add_column(column, justify=justify)
        marks = {True: "yes", False: "no", None: "-"}
        for row in results:
            table.add_row(
                row["company"], f"{row['name']} ({row['code']})", row["value"] if row["value"] is not None else "-",
                row["unit"], row["target"] if row["target"] is not None else "-", marks[row["on_target"]],
            )
        # Rendered to text first: Django's output wrapper adds a newline to every write.
        console = Console(width=120, color_system="auto" if self.stdout.isatty() else None)
        with console.capture() as captured:
            console.print(table)
        self.stdout.write(captured.get(), ending="")
