"""The `keel` command: Keel's management commands under one name.

`keel <command> [<action>] [options]` runs the Django management command `<command>`;
commands with several actions take the action as their first argument, so
`keel audit verify` is the `audit` command with the action `verify`, and
`keel ledger verify` the `ledger` command. Any Django management command works too
(`keel shell`, `keel dbshell`, `keel check`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

# (usage, what it does): the overview `keel --help` prints. Apps' commands that are not
# listed here still run; `keel help --commands` lists every one.
COMMANDS: list[tuple[str, str]] = [
    ("serve [--host H] [--port P] [--dev]", "run the web server: gunicorn, or with --dev Django's reloading one with debug on"),
    ("migrate", "create or update the database"),
    ("demo", "create the demo companies, users and data (idempotent); prints the logins"),
    ("createuser --email E [--company C --role R]", "add a login, optionally with a role in a company"),
    ("audit verify [--company C]", "walk the activity hash chains and check them against the anchors; exit 1 naming what was altered"),
    ("audit anchor [--company C]", "write a signed checkpoint of each chain outside the database (KEEL_AUDIT_ANCHOR_DIR)"),
    ("events [failed|retry]", "print every event with its handlers; list failed deliveries; retry stuck ones"),
    ("worker", "run background tasks, retry stuck event deliveries every minute, anchor the activity chains every hour"),
    ("kpi [--company C] [--from D] [--to D] [--format table|json]", "print KPI values with unit and target"),
    ("activities export --company C --format ocel|xes", "write the activity log as OCEL 2.0 JSON or XES"),
    ("ledger ACTION [options]", "the general ledger: import-entries, trial-balance, verify, close-period, ... (keel ledger --help)"),
]


def help_text() -> str:
    width = max(len(usage) for usage, _ in COMMANDS)
    lines = [
        "Keel: one back office on one data model.",
        "",
        "usage: keel <command> [<action>] [options]",
        "",
        "commands:",
        *(f"  {usage.ljust(width)}  {what}" for usage, what in COMMANDS),
        "",
        "Every Django management command also works (keel shell, keel check, keel dbshell, ...);",
        "`keel help --commands` lists them all, `keel <command> --help` shows a command's options.",
        "Settings come from KEEL_* environment variables (KEEL_DATABASE_URL, KEEL_DEBUG, ...).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or arguments[0] in {"-h", "--help"} or arguments == ["help"]:
        sys.stdout.write(help_text())
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "keel.settings")
    if arguments[0] == "serve" and ({"--dev", "--reload"} & set(arguments)):
        # Settings are read before the command parses its options: the development server
        # turns debug on here (tracebacks in the browser), unless KEEL_DEBUG says otherwise.
        os.environ.setdefault("KEEL_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["keel", *arguments])


if __name__ == "__main__":
    main()
