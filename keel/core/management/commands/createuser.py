"""`keel createuser`: a login, optionally with a role in a company."""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from keel.core.exceptions import KeelError
from keel.core.management.commands._common import company_by_code
from keel.core.services.memberships import add_member, create_user


def _ask_password() -> str | None:
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Password (empty: no password, sign-in disabled until one is set): ")
    if not first:
        return None
    if getpass.getpass("Password again: ") != first:
        raise CommandError("The passwords differ.")
    return first


class Command(BaseCommand):
    help = "Add a login (the email is the username), optionally with a role in a company."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="asked for when omitted on a terminal; otherwise none is set")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--company", help="code of the company to join")
        parser.add_argument("--role", help="role code in that company (owner, accountant, auditor, ...)")
        parser.add_argument("--staff", action="store_true", help="may create companies and open the admin")
        parser.add_argument("--superuser", action="store_true", help="may do everything in the admin")

    def handle(self, *args, email: str, password: str | None, first_name: str, last_name: str,
               company: str | None, role: str | None, staff: bool, superuser: bool, **options):
        if bool(company) != bool(role):
            raise CommandError("--company and --role go together.")
        target = company_by_code(company) if company else None
        email = email.strip().lower()
        exists = get_user_model().objects.filter(username=email).exists()
        if exists and target is None:
            raise CommandError(f"A user '{email}' already exists.")
        if password is None and not exists:
            password = _ask_password()
        try:
            with transaction.atomic():
                if not exists:
                    user = create_user(email=email, password=password, first_name=first_name, last_name=last_name,
                                       is_staff=staff or superuser)
                    if superuser:
                        user.is_superuser = True
                        user.save(update_fields=["is_superuser"])
                if target is not None:
                    add_member(actor=None, company=target, email=email, role=role, check_permission=False)
        except KeelError as exc:
            raise CommandError(exc.message)
        done = f"{'Added' if exists else 'Created'} {email}"
        if target is not None:
            done += f" as {role} in {target.code}"
        if not exists and not password:
            done += " (no password set: sign-in is disabled until one is)"
        self.stdout.write(done + ".")
