"""The `keel` command: help, dispatch, and the small commands (createuser, events, kpi, serve, worker)."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from keel.cli import COMMANDS, help_text, main
from keel.core.activity import record
from keel.core.choices import DeliveryStatus
from keel.core.models import Activity, EventDelivery, Membership
from keel.core.services.parties import create_party
from keel.insights.services import set_target


def _run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_keel_help_lists_every_keel_command():
    result = subprocess.run([sys.executable, "-m", "keel.cli", "--help"], capture_output=True, text=True, check=True)
    for name in ("serve", "migrate", "demo", "createuser", "audit verify", "events", "worker", "kpi",
                 "activities export", "ledger"):
        assert f"\n  {name}" in result.stdout
    assert "Every Django management command also works" in result.stdout


def test_keel_alone_prints_the_same_help(capsys):
    main([])
    assert capsys.readouterr().out == help_text()
    assert len(COMMANDS) == 11


@pytest.mark.django_db
def test_any_management_command_runs_through_keel(capsys):
    main(["showmigrations", "core"])
    assert capsys.readouterr().out.startswith("core\n [X] 0001_initial\n")


def test_a_command_with_an_action_maps_onto_one_management_command(capsys):
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    assert "{verify,anchor}" in capsys.readouterr().out


# createuser


@pytest.mark.django_db
def test_createuser_with_a_role_records_the_membership(company):
    output = _run("createuser", email="Clerk@Acme.test", password="a-long-passphrase", company="acme",
                  role="billing_clerk")
    assert output == "Created clerk@acme.test as billing_clerk in acme.\n"
    user = get_user_model().objects.get(username="clerk@acme.test")
    assert user.check_password("a-long-passphrase") and not user.is_staff
    assert Membership.objects.get(company=company, user=user).role.code == "billing_clerk"
    activity = Activity.objects.for_company(company).get(verb="core.member_added")
    assert activity.actor_id is None and activity.data == {"user": "clerk@acme.test", "role": "billing_clerk"}


@pytest.mark.django_db
def test_createuser_superuser_without_a_company():
    output = _run("createuser", email="root@keel.test", password="a-long-passphrase", superuser=True)
    assert output.startswith("Created root@keel.test")
    user = get_user_model().objects.get(username="root@keel.test")
    assert user.is_superuser and user.is_staff


@pytest.mark.django_db
def test_createuser_refuses_weak_passwords_and_writes_nothing(company):
    with pytest.raises(CommandError, match="too short"):
        _run("createuser", email="weak@acme.test", password="abc", company="acme", role="employee")
    assert not get_user_model().objects.filter(username="weak@acme.test").exists()
    assert not Activity.objects.for_company(company).exists()


@pytest.mark.django_db
def test_createuser_refuses_an_unknown_role_and_writes_nothing(company):
    with pytest.raises(CommandError, match="No role 'wizard'"):
        _run("createuser", email="x@acme.test", password="a-long-passphrase", company="acme", role="wizard")
    assert not get_user_model().objects.filter(username="x@acme.test").exists()


@pytest.mark.django_db
def test_createuser_needs_company_and_role_together(company):
    with pytest.raises(CommandError, match="go together"):
        _run("createuser", email="x@acme.test", password="a-long-passphrase", company="acme")


# events


def test_events_prints_each_event_with_description():
    output = _run("events")
    assert "core.party_created  A party (customer, supplier, person...) was created\n" in output
    assert "inbox.task_completed  A task was done\n" in output


def test_events_show_subscribed_handlers():
    from keel.core import events

    def react(activity):
        return None

    events.subscribe("core.party_created")(react)
    try:
        output = _run("events")
    finally:
        events.unsubscribe("core.party_created", react)
    assert f"core.party_created  A party (customer, supplier, person...) was created\n    -> {events.handler_name(react)}\n" in output


@pytest.mark.django_db
def test_events_failed_lists_failed_deliveries(company):
    activity = record(company=company, actor=None, verb="core.thing_done", subject=company)
    failed = EventDelivery.objects.create(
        company=company, activity=activity, event="core.thing_done", handler="keel.x.handlers.explode",
        status=DeliveryStatus.FAILED, attempts=5, last_error="Traceback ...\nValueError: boom",
    )
    EventDelivery.objects.create(company=company, activity=activity, event="core.thing_done",
                                 handler="keel.x.handlers.fine", status=DeliveryStatus.DONE)
    output = _run("events", "failed")
    assert f"#{failed.pk} acme core.thing_done -> keel.x.handlers.explode (activity {activity.pk}, 5 attempts" in output
    assert "ValueError: boom" in output
    assert "1 failed deliveries." in output
    assert "keel.x.handlers.fine" not in output


@pytest.mark.django_db
def test_events_retry_runs_stale_deliveries(monkeypatch):
    from keel.core import events

    seen = {}

    def retry_stale(*, older_than):
        seen["older"] = older_than
        return 3

    monkeypatch.setattr(events, "retry_stale", retry_stale)
    assert _run("events", "retry", older_than=0) == "3 stuck deliveries ran successfully.\n"
    assert seen["older"].total_seconds() == 0


# kpi


@pytest.mark.django_db
def test_kpi_table_shows_value_unit_and_target(company, owner):
    create_party(actor=owner, company=company, name="Initech")
    set_target(actor=owner, company=company, kpi_code="core.activity_volume", target="1")
    output = _run("kpi", company="acme")
    line = next(row for row in output.splitlines() if "core.activity_volume" in row)
    assert "acme" in line and "activities" in line
    assert line.split("│")[3].strip() == "2"  # the party and the target
    assert line.split("│")[5].strip() == "1.0000"
    assert line.split("│")[6].strip() == "yes"


@pytest.mark.django_db
def test_kpi_json(company, owner):
    create_party(actor=owner, company=company, name="Initech")
    document = json.loads(_run("kpi", company="acme", date_from="2020-01-01", format="json"))
    assert document["from"] == "2020-01-01"
    volume = next(k for k in document["kpis"] if k["code"] == "core.activity_volume")
    assert volume == {
        "company": "acme", "code": "core.activity_volume", "name": "Activity volume", "value": "1",
        "unit": "activities", "target": None, "on_target": None, "higher_is_better": True,
    }


@pytest.mark.django_db
def test_kpi_refuses_bad_dates(company):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _run("kpi", date_from="yesterday")
    with pytest.raises(CommandError, match="is after"):
        _run("kpi", date_from="2026-02-01", date_to="2026-01-01")


# serve and worker


@pytest.mark.django_db
def test_serve_refuses_while_migrations_are_pending(monkeypatch):
    from keel.core.management.commands import serve

    monkeypatch.setattr(serve, "pending_migrations", lambda: ["ledger.0002_budgets"])
    started = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: started.append(a))
    with pytest.raises(CommandError, match="Run `keel migrate` first"):
        _run("serve")
    assert started == []


@pytest.mark.django_db
def test_serve_dev_runs_the_development_server_with_reload(monkeypatch):
    from keel.core.management.commands import serve

    assert serve.pending_migrations() == []
    started = []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: started.append((a, k)))
    _run("serve", host="0.0.0.0", port=8123, dev=True)
    assert started == [(("runserver", "0.0.0.0:8123"), {"use_reloader": True, "use_threading": True})]


@pytest.mark.django_db
def test_serve_runs_gunicorn_sized_to_the_machine_after_collecting_static(monkeypatch):
    """The real server is started in keel/web/tests/test_serving.py; this checks its settings."""
    from keel.core.management.commands import serve

    commands, servers = [], []
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: commands.append(a))

    class Server:
        def __init__(self, options):
            self.options = options

        def run(self):
            servers.append(self.options)

    monkeypatch.setattr(serve, "gunicorn_application", Server)
    monkeypatch.setattr(serve, "usable_cpus", lambda: 2)
    monkeypatch.delenv("KEEL_WEB_WORKERS", raising=False)
    _run("serve", port=8124)
    assert commands == [("collectstatic",)]
    [options] = servers
    assert options["bind"] == "127.0.0.1:8124"
    assert options["worker_class"] == "gthread" and options["threads"] == 4
    assert options["workers"] == (3 if serve.is_sqlite() else 5)


@pytest.mark.django_db
def test_worker_runs_db_worker_and_queues_the_sweep_once(monkeypatch, settings):
    from django_tasks_db.models import DBTaskResult

    from keel.core.management.commands import worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    started = []
    monkeypatch.setattr(worker, "call_command", lambda *a, **k: started.append((a, k)))
    _run("worker", batch=True)
    assert started[0][0] == ("db_worker",)
    assert started[0][1]["batch"] is True and started[0][1]["reload"] is False
    assert DBTaskResult.objects.filter(task_path="keel.core.tasks.retry_stale_deliveries").count() == 1
    assert worker.enqueue_sweep() is False  # one is already waiting
    assert DBTaskResult.objects.filter(task_path="keel.core.tasks.anchor_chains").count() == 1
    assert worker.enqueue_anchoring() is False
