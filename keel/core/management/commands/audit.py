"""`keel audit verify` and `keel audit anchor`: the activity chains, checked and anchored.

`verify` walks each company's hash chain and compares it with the latest signed anchors
outside the database (keel.core.anchors); `anchor` writes a new anchor of each chain.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from keel.core.activity import verify_chain
from keel.core.anchors import AnchorError, anchor, check_anchors, missing_companies
from keel.core.management.commands._common import companies


class Command(BaseCommand):
    help = (
        "verify: walk the activity hash chain of one company or of all and compare it with the anchors "
        "kept outside the database; exit 0 when intact, 1 naming what was altered or deleted. "
        "anchor: write a signed checkpoint of each chain to KEEL_AUDIT_ANCHOR_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "action", choices=["verify", "anchor"],
            help="verify: recompute the chains and check them against the anchors; anchor: write new anchors",
        )
        parser.add_argument("--company", help="code of one company (default: every company)")

    def handle(self, *args, action: str, company: str | None, **options):
        if action == "anchor":
            self._anchor(company)
        else:
            self._verify(company)

    def _verify(self, code: str | None) -> None:
        broken: list[str] = []
        for each in companies(code):
            report = verify_chain(each)
            if not report.ok:
                self.stdout.write(f"{each.code}: {report.checked} activities checked, BROKEN: {report.problem}")
                broken.append(f"{each.code}: {report.problem}")
                continue
            try:
                check = check_anchors(each.pk, each.code)
            except AnchorError as exc:
                self.stdout.write(f"{each.code}: {report.checked} activities checked, ANCHOR UNTRUSTED: {exc}")
                broken.append(f"{each.code}: {exc}")
                continue
            if not check.ok:
                self.stdout.write(f"{each.code}: {report.checked} activities checked, BROKEN: {check.problem}")
                broken.append(f"{each.code}: {check.problem}")
            elif check.latest is None:
                self.stdout.write(f"{each.code}: {report.checked} activities checked, OK (not anchored yet)")
            else:
                self.stdout.write(
                    f"{each.code}: {report.checked} activities checked, OK "
                    f"(matches the anchor at #{check.latest.last_seq} of {check.latest.anchored_at})"
                )
        if code is None:
            for gone in missing_companies():
                self.stdout.write(f"{gone.company_code}: BROKEN: {gone.problem}")
                broken.append(f"{gone.company_code}: {gone.problem}")
        if broken:
            raise CommandError(
                f"The activity history of {len(broken)} company(ies) was altered: {broken[0]}", returncode=1
            )

    def _anchor(self, code: str | None) -> None:
        refused: list[str] = []
        for each in companies(code):
            result = anchor(each)
            if result.refused:
                self.stdout.write(f"{each.code}: NOT ANCHORED: {result.refused}")
                refused.append(f"{each.code}: {result.refused}")
            elif result.anchor is None:
                self.stdout.write(f"{each.code}: no activity yet, nothing to anchor")
            elif result.unchanged:
                self.stdout.write(f"{each.code}: unchanged since the anchor at #{result.anchor.last_seq}")
            else:
                self.stdout.write(
                    f"{each.code}: anchored at #{result.anchor.last_seq} ({result.anchor.count} activities)"
                )
        if refused:
            raise CommandError(
                f"{len(refused)} chain(s) not anchored because they do not verify: {refused[0]}", returncode=1
            )
