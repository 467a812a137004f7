"""`keel activities export`: the activity log for process-mining tools (OCEL 2.0, XES)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from keel.core.exports import WRITERS
from keel.core.management.commands._common import company_by_code, parse_date


class _Passthrough:
    """Writes to the command's stdout as they are: Django's wrapper would add newlines."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")


class Command(BaseCommand):
    help = (
        "Export a company's activity log as an OCEL 2.0 JSON event log (objects are the records, "
        "events the activities) or an XES event log (one trace per record)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["export"], help="export: write the activity log")
        parser.add_argument("--company", required=True, help="code of the company")
        parser.add_argument("--format", required=True, choices=sorted(WRITERS), help="ocel (OCEL 2.0 JSON) or xes")
        parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day to include")
        parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day to include")
        parser.add_argument("--output", "-o", metavar="FILE", help="file to write (default: standard output)")

    def handle(self, *args, action: str, company: str, format: str, date_from: str | None, date_to: str | None,
               output: str | None, **options):
        target = company_by_code(company)
        start = parse_date(date_from, option="--from")
        end = parse_date(date_to, option="--to")
        if start and end and start > end:
            raise CommandError(f"--from ({start}) is after --to ({end}).")
        writer = WRITERS[format]
        if output and output != "-":
            path = Path(output)
            try:
                with path.open("w", encoding="utf-8") as stream:
                    events, groups = writer(target, stream, date_from=start, date_to=end)
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}.")
            kind = "objects" if format == "ocel" else "traces"
            self.stderr.write(f"Wrote {events} events and {groups} {kind} of {target.code} to {path}.")
        else:
            writer(target, _Passthrough(self.stdout), date_from=start, date_to=end)
            self.stdout.flush()
