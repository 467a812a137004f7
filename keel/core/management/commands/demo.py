"""`keel demo`: the demo companies, users and data; prints the logins. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from keel.core.demo import COMPANIES, build_demo
from keel.core.exceptions import KeelError


class Command(BaseCommand):
    help = "Create the demo companies with users for the main roles, parties, rates and tasks (idempotent)."

    def handle(self, *args, **options):
        try:
            result = build_demo()
        except KeelError as exc:
            raise CommandError(f"The demo could not be loaded: {exc.message} ({exc.code})")
        names = {c.code: c.legal_name for c in result.companies}
        if result.created:
            self.stdout.write("Demo loaded: " + ", ".join(f"{names[code]} ({code})" for code in COMPANIES) + ".")
        else:
            self.stdout.write("The demo is already loaded; nothing changed.")
        self.stdout.write("\nDemo logins (email, password, role per company):")
        width = max(len(login.email) for login in result.logins)
        for login in result.logins:
            roles = ", ".join(f"{role} in {code}" for code, role in login.roles.items())
            self.stdout.write(f"  {login.email.ljust(width)}  {login.password}  {roles}")
