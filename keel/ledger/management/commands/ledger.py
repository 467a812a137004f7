"""`keel ledger <action>`: the general ledger from the command line.

    keel ledger verify [--company C]                  recompute running balances from lines
    keel ledger close-period --company C --period YYYY-MM [--user U]

`verify` exits with status 1 when any balance differs from its lines.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from keel.core.exceptions import KeelError
from keel.core.models import Company


class Command(BaseCommand):
    help = "General ledger: verify running balances, close periods."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        verify = actions.add_parser("verify", help="Recompute running balances from the journal lines")
        verify.add_argument("--company", help="Company code (default: every company)")
        close = actions.add_parser("close-period", help="Close a period: it refuses postings afterwards")
        close.add_argument("--company", required=True, help="Company code")
        close.add_argument("--period", required=True, help="The month, YYYY-MM")
        close.add_argument("--user", help="Act as this user (their permission is checked); default: the system")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "verify":
                return self.verify(options)
            if action == "close-period":
                return self.close_period(options)
        except KeelError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]")
        raise CommandError(f"Unknown action {action}")

    def _company(self, code: str) -> Company:
        company = Company.objects.filter(code=code).first()
        if company is None:
            raise CommandError(f"No company '{code}'.")
        return company

    def verify(self, options) -> None:
        from keel.ledger.services.balances import verify_balances

        companies = [self._company(options["company"])] if options.get("company") else list(Company.objects.order_by("code"))
        failed = 0
        for company in companies:
            report = verify_balances(company)
            if report.ok:
                self.stdout.write(f"{company.code}: {report.keys_checked} balances agree with the lines.")
                continue
            failed += 1
            self.stdout.write(f"{company.code}: {len(report.differences)} balance(s) differ from the lines:")
            for difference in report.differences:
                self.stdout.write(f"  {difference}")
        if failed:
            raise CommandError(f"Balances differ in {failed} company(ies).", returncode=1)

    def close_period(self, options) -> None:
        from keel.ledger.services.periods import close_period, get_period

        company = self._company(options["company"])
        actor = None
        if options.get("user"):
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user '{options['user']}'.")
        period = get_period(company=company, name=options["period"])
        close_period(actor=actor, period=period, check_permission=actor is not None)
        self.stdout.write(f"{company.code}: period {period.name} is closed.")
