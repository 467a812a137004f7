"""`keel audit verify`: walk the activity hash chains and name the first broken link."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from keel.core.activity import verify_chain
from keel.core.management.commands._common import companies


class Command(BaseCommand):
    help = (
        "Verify the activity hash chain of one company or of all: exit 0 when every chain is "
        "intact, 1 naming the first altered or deleted activity otherwise."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"], help="verify: recompute the hash chains")
        parser.add_argument("--company", help="code of one company (default: every company)")

    def handle(self, *args, action: str, company: str | None, **options):
        broken: list[str] = []
        for each in companies(company):
            report = verify_chain(each)
            if report.ok:
                self.stdout.write(f"{each.code}: {report.checked} activities checked, OK")
            else:
                line = f"{each.code}: {report.checked} activities checked, BROKEN: {report.problem}"
                self.stdout.write(line)
                broken.append(f"{each.code}: {report.problem}")
        if broken:
            raise CommandError(
                f"The activity history of {len(broken)} company(ies) was altered: {broken[0]}", returncode=1
            )
