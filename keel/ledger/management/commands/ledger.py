"""`keel ledger <action>`: the general ledger from the command line.

    keel ledger verify [--company C]                  recompute running balances from lines
    keel ledger import-entries FILE.csv --company C [--dry-run] [--accept-repeat] [--user U]
    keel ledger trial-balance --company C [--from D] [--to D] [--cost-centre CODE] [--format table|csv|json]
    keel ledger close-period --company C --period YYYY-MM [--user U]
    keel ledger reopen-period --company C --period YYYY-MM --reason TEXT [--user U]
    keel ledger close-year --company C --year YYYY [--preview] [--user U]
    keel ledger reopen-year --company C --year YYYY --reason TEXT [--user U]

`verify` exits with status 1 when any balance differs from its lines; `import-entries`
exits with status 1 when any row is refused (each one is listed with its CSV line), and
writes nothing then.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from keel.core.exceptions import KeelError
from keel.core.models import Company
from keel.core.spreadsheet import csv_writer

ACTIONS = {
    "verify": "Recompute running balances from the journal lines",
    "import-entries": "Import journal entries from a CSV file (all or nothing)",
    "trial-balance": "Print the trial balance for a date range",
    "close-period": "Close a period: it refuses postings afterwards",
    "reopen-period": "Reopen a closed period, with a reason",
    "close-year": "Year-end close: move the result to retained earnings, close the year's periods",
    "reopen-year": "Reopen a closed fiscal year, with a reason: its closing entry is reversed",
}


def _money(value) -> str:
    from keel.ledger.schemas import _money as money

    return money(value)


class Command(BaseCommand):
    help = "General ledger: " + "; ".join(f"{name} ({text.lower()})" for name, text in ACTIONS.items())

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                        title="actions", description=", ".join(ACTIONS))
        verify = actions.add_parser("verify", help=ACTIONS["verify"])
        verify.add_argument("--company", help="Company code (default: every company)")

        imports = actions.add_parser("import-entries", help=ACTIONS["import-entries"])
        imports.add_argument("file", help="CSV (comma, semicolon or tab separated): entry,date,journal,account,label,"
                                          "debit,credit [,currency,amount_currency,rate,party,tax,tax_role,cost_centre,"
                                          "due_date,reference,description]")
        imports.add_argument("--company", required=True, help="Company code")
        imports.add_argument("--dry-run", action="store_true", help="Check everything, write nothing")
        imports.add_argument("--accept-repeat", action="store_true",
                             help="Import a file that was imported already (refused otherwise)")
        imports.add_argument("--user", help="Act as this user (their permission is checked); default: the system")

        trial = actions.add_parser("trial-balance", help=ACTIONS["trial-balance"])
        trial.add_argument("--company", required=True, help="Company code")
        trial.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                           help="First day (default: the start of the fiscal year of --to)")
        trial.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="Last day (default: today)")
        trial.add_argument("--format", choices=["table", "csv", "json"], default="table")
        trial.add_argument("--cost-centre", dest="cost_centre", metavar="CODE",
                           help="Only this cost centre's lines (such a slice need not balance)")

        close = actions.add_parser("close-period", help=ACTIONS["close-period"])
        reopen = actions.add_parser("reopen-period", help=ACTIONS["reopen-period"])
        for sub in (close, reopen):
            sub.add_argument("--company", required=True, help="Company code")
            sub.add_argument("--period", required=True, help="The month, YYYY-MM")
            sub.add_argument("--user", help="Act as this user (their permission is checked); default: the system")
        reopen.add_argument("--reason", required=True, help="Why the period is reopened (kept in the history)")

        year = actions.add_parser("close-year", help=ACTIONS["close-year"])
        year.add_argument("--company", required=True, help="Company code")
        year.add_argument("--year", required=True, type=int, help="The fiscal year (the calendar year it starts in)")
        year.add_argument("--preview", action="store_true",
                          help="Print the closing entry and any reason it would be refused; write nothing")
        year.add_argument("--user", help="Act as this user (their permission is checked); default: the system")

        reopen_year = actions.add_parser("reopen-year", help=ACTIONS["reopen-year"])
        reopen_year.add_argument("--company", required=True, help="Company code")
        reopen_year.add_argument("--year", required=True, type=int, help="The fiscal year (the calendar year it starts in)")
        reopen_year.add_argument("--reason", required=True, help="Why the year is reopened (kept in the history)")
        reopen_year.add_argument("--user", help="Act as this user (their permission is checked); default: the system")

    def handle(self, *args, **options):
        action = options["action"]
        handlers = {
            "verify": self.verify, "import-entries": self.import_entries, "trial-balance": self.trial_balance,
            "close-period": self.close_period, "reopen-period": self.reopen_period, "close-year": self.close_year,
            "reopen-year": self.reopen_year,
        }
        if action not in handlers:
            raise CommandError(f"Unknown action {action}")
        try:
            return handlers[action](options)
        except KeelError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]")

    def _company(self, code: str) -> Company:
        company = Company.objects.filter(code=code).first()
        if company is None:
            raise CommandError(f"No company '{code}'.")
        return company

    def _actor(self, options):
        if not options.get("user"):
            return None
        actor = get_user_model().objects.filter(username=options["user"]).first()
        if actor is None:
            raise CommandError(f"No user '{options['user']}'.")
        return actor

    @staticmethod
    def _date(value: str | None, option: str) -> dt.date | None:
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"{option} '{value}' is not a date (YYYY-MM-DD).")

    def verify(self, options) -> None:
        from keel.ledger.services.balances import verify_balances

        companies = [self._company(options["company"])] if options.get("company") else list(Company.objects.order_by("code"))
        failed = 0
        for company in companies:
            report = verify_balances(company)
            if report.ok:
                self.stdout.write(f"{company.code}: {report.keys_checked} balances agree with the lines; "
                                  f"{report.entries_checked} posted entries are as they were posted.")
                continue
            failed += 1
            if report.differences:
                self.stdout.write(f"{company.code}: {len(report.differences)} balance(s) differ from the lines:")
                for difference in report.differences:
                    self.stdout.write(f"  {difference}")
            if report.changed_entries:
                self.stdout.write(f"{company.code}: {len(report.changed_entries)} posted entr"
                                  f"{'y' if len(report.changed_entries) == 1 else 'ies'} changed since posting:")
                for changed in report.changed_entries:
                    self.stdout.write(f"  {changed}")
        if failed:
            raise CommandError(f"Balances or posted entries differ in {failed} company(ies).", returncode=1)

    def import_entries(self, options) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from keel.ledger.services.importing import import_entries

        company = self._company(options["company"])
        actor = self._actor(options)
        path = Path(options["file"])
        dry_run = options["dry_run"]
        progress = Progress(TextColumn("importing"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                            transient=True, disable=not sys.stderr.isatty())
        task = None

        def advance(done: int, total: int) -> None:
            nonlocal task
            if task is None:
                task = progress.add_task("importing", total=total)
            progress.update(task, completed=done)

        try:
            stream = path.open("rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}")
        with stream, progress:
            result = import_entries(actor=actor, company=company, file=stream, file_name=path.name, dry_run=dry_run,
                                    accept_repeat=options["accept_repeat"], check_permission=actor is not None,
                                    progress=advance)
        if result.errors:
            for problem in result.errors:
                self.stderr.write(f"{path.name}: {problem}")
            if result.unlisted_problems:
                self.stderr.write(f"{path.name}: ... and {result.unlisted_problems:,} more problem(s)")
            raise CommandError(
                f"{result.problem_count} problem(s) in {path.name}; nothing was imported.", returncode=1)
        if dry_run:
            self.stdout.write(f"{company.code}: {result.entries} entries ({result.lines} lines) are valid; "
                              "nothing was written (--dry-run).")
            return
        span = f" ({result.first_number} .. {result.last_number})" if result.first_number else ""
        self.stdout.write(f"{company.code}: {result.entries} entries ({result.lines} lines) posted{span}, "
                          f"import #{result.import_id}.")

    def trial_balance(self, options) -> None:
        from keel.ledger.reports import report_range
        from keel.ledger.reports.trial_balance import trial_balance_report

        company = self._company(options["company"])
        date_to = self._date(options.get("date_to"), "--to") or timezone.localdate()
        date_from = self._date(options.get("date_from"), "--from") or company.fiscal_year_bounds(
            company.fiscal_year_of(date_to))[0]
        # The statements' checks: dates in order and within 1900-9998, the cost centre of the company.
        period = report_range(company, date_from=date_from, date_to=date_to, cost_centre=options.get("cost_centre"))
        report = trial_balance_report(company, period)
        header = ["code", "name", "type", "opening", "debit", "credit", "closing"]
        rows = [[r.code, r.name, r.account_type, _money(r.opening), _money(r.debit), _money(r.credit),
                 _money(r.closing)] for r in report.rows]
        totals = ["", "Total", "", _money(report.total_opening), _money(report.total_debit),
                  _money(report.total_credit), _money(report.total_closing)]
        fmt = options["format"]
        if fmt == "json":
            from keel.ledger.schemas import trial_balance_out

            document = trial_balance_out(report)
            document.update(company=company.code, date_from=date_from.isoformat(), date_to=date_to.isoformat())
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
            return
        if fmt == "csv":
            writer = csv_writer(self.stdout, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
            writer.writerow(totals)
            return
        from rich.console import Console
        from rich.table import Table

        centre = f", cost centre {period.cost_centre.code}" if period.cost_centre else ""
        table = Table(title=f"{company.code} trial balance {date_from} .. {date_to} ({report.currency}{centre})")
        for column in header:
            table.add_column(column, justify="right" if column in header[3:] else "left")
        for row in rows:
            table.add_row(*row)
        table.add_row(*totals, style="bold")
        Console(file=self.stdout, width=140).print(table)
        # A cost-centre slice is not checked (is_balanced is None): it need not balance.
        if report.is_balanced is False:
            raise CommandError("The trial balance does not balance.", returncode=1)

    def close_period(self, options) -> None:
        from keel.ledger.services.periods import close_period, get_period

        company = self._company(options["company"])
        actor = self._actor(options)
        period = get_period(company=company, name=options["period"])
        close_period(actor=actor, period=period, check_permission=actor is not None)
        self.stdout.write(f"{company.code}: period {period.name} is closed.")

    def reopen_period(self, options) -> None:
        from keel.ledger.services.periods import get_period, reopen_period

        company = self._company(options["company"])
        actor = self._actor(options)
        period = get_period(company=company, name=options["period"])
        reopen_period(actor=actor, period=period, reason=options["reason"], check_permission=actor is not None)
        self.stdout.write(f"{company.code}: period {period.name} is open again.")

    def close_year(self, options) -> None:
        from keel.ledger.services.closing import close_fiscal_year

        company = self._company(options["company"])
        actor = self._actor(options)
        if options.get("preview"):
            self._preview_close(company, options["year"])
            return
        result = close_fiscal_year(actor=actor, company=company, fiscal_year=options["year"],
                                   check_permission=actor is not None)
        entry = f"closing entry {result.entry.number}" if result.entry else "no income or expense to close"
        self.stdout.write(f"{company.code}: fiscal year {options['year']} is closed; result {_money(result.result)} "
                          f"{company.base_currency_id} moved to retained earnings ({entry}); "
                          f"{result.periods_closed} period(s) closed.")

    def _preview_close(self, company: Company, year: int) -> None:
        from keel.ledger.services.closing import preview_fiscal_year_close

        preview = preview_fiscal_year_close(company=company, fiscal_year=year)
        self.stdout.write(f"{company.code}: closing FY{year} would post on {preview.fiscal_year.end.isoformat()}"
                          f"{f' in journal {preview.journal.code}' if preview.journal else ''}:")
        for line in preview.lines:
            self.stdout.write(f"  {line.account.code:<10} {line.account.name[:40]:<40} "
                              f"{_money(line.debit) if line.debit else '':>16} {_money(line.credit) if line.credit else '':>16}")
        if not preview.lines:
            self.stdout.write("  (no entry: the year has no income or expense)")
        self.stdout.write(f"Result {_money(preview.result)} {company.base_currency_id}. Nothing was written.")
        for refusal in preview.refusals:
            self.stdout.write(f"Refused now: {refusal.message} [{refusal.code}]")

    def reopen_year(self, options) -> None:
        from keel.ledger.services.closing import reopen_fiscal_year

        company = self._company(options["company"])
        actor = self._actor(options)
        result = reopen_fiscal_year(actor=actor, company=company, fiscal_year=options["year"], reason=options["reason"],
                                    check_permission=actor is not None)
        reversal = f"closing entry reversed by {result.reversal.number}" if result.reversal else "no closing entry"
        self.stdout.write(f"{company.code}: fiscal year {options['year']} is open again ({reversal}).")
