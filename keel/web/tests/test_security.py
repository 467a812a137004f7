"""Security settings and sign-in: generated secret key, `check --deploy`, response headers,
the sign-in throttle and lockout, password reset by email, error pages and the API's 500."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.template import engines
from django.test import Client
from django.urls import path
from django.utils import timezone

import keel.urls
from keel.core.tests.factories import DEFAULT_PASSWORD, member

ROOT = Path(__file__).resolve().parents[3]


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEL_", "DJANGO_", "PYTEST_"))}
    env.update({"PYTHONPATH": str(ROOT), "DJANGO_SETTINGS_MODULE": "keel.settings", **extra})
    return env


# Secret key and deployment checks (processes of their own: settings are read once)


def test_a_secret_key_is_generated_once_under_var_readable_by_the_owner_only(tmp_path):
    env = _clean_env(KEEL_VAR_DIR=str(tmp_path / "var"))
    show = [sys.executable, "-c", "from django.conf import settings; print(settings.SECRET_KEY)"]
    first = subprocess.run(show, env=env, capture_output=True, text=True, check=True).stdout.strip()
    key_file = tmp_path / "var" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 50 and key_file.read_text().strip() == first
    second = subprocess.run(show, env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert second == first
    other = subprocess.run(show, env=_clean_env(KEEL_VAR_DIR=str(tmp_path / "elsewhere")),
                           capture_output=True, text=True, check=True).stdout.strip()
    assert other != first  # each installation its own key: none is built in
    given = subprocess.run(show, env={**env, "KEEL_SECRET_KEY": "k" * 60}, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert given == "k" * 60


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    env = _clean_env(KEEL_VAR_DIR=str(tmp_path / "var"), KEEL_HTTPS="1", KEEL_ALLOWED_HOSTS="keel.example.com")
    result = subprocess.run([sys.executable, "-m", "keel.cli", "check", "--deploy", "--fail-level", "WARNING"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    # Without HTTPS the same check names what is missing.
    plain = subprocess.run([sys.executable, "-m", "keel.cli", "check", "--deploy", "--fail-level", "WARNING"],
                           env=_clean_env(KEEL_VAR_DIR=str(tmp_path / "var")), capture_output=True, text=True)
    assert plain.returncode != 0 and "SECURE_HSTS_SECONDS" in plain.stderr + plain.stdout


# Headers


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_frame_denial_and_referrer_policy(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()  # htmx's script tag carries it
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get("/login/")["Content-Security-Policy"] != policy  # a fresh nonce each time


@pytest.mark.django_db
def test_the_budget_grids_inline_script_is_allowed_by_its_hash(client):
    source = engines["django"].engine.get_template("ledger/budgets/budget_grid.html").source
    [script] = re.findall(r"<script>(.*?)</script>", source, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in client.get("/login/")["Content-Security-Policy"]


def test_https_settings_follow_keel_https(tmp_path):
    show = [sys.executable, "-c", (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS > 0, s.SECURE_SSL_REDIRECT, s.DEBUG)"
    )]
    var = str(tmp_path / "var")
    on = subprocess.run(show, env=_clean_env(KEEL_VAR_DIR=var, KEEL_HTTPS="1"), capture_output=True, text=True,
                        check=True)
    off = subprocess.run(show, env=_clean_env(KEEL_VAR_DIR=var), capture_output=True, text=True, check=True)
    assert on.stdout.split() == ["True", "True", "True", "True", "False"]
    assert off.stdout.split() == ["False", "False", "False", "False", "False"]


# Sign-in throttle and lockout


def _sign_in(client, username, password, address="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _age_failures(seconds: int = 120) -> None:
    """Move the recorded failures into the past, as if the user had waited."""
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(seconds=seconds))


@pytest.mark.django_db
def test_failures_slow_down_then_lock_the_account_and_the_address(company, settings):
    settings.KEEL_LOGIN_SLOWDOWN_AFTER = 3
    settings.AXES_FAILURE_LIMIT = 6
    user = member(company, "accountant", username="anna@acme.test")
    other = member(company, "accountant", username="bob@acme.test")
    client = Client()
    assert client.get("/login/").status_code == 200
    for _ in range(3):
        response = _sign_in(client, "Anna@acme.test", "wrong")
        assert response.status_code == 200 and b"The email or the password is not right" in response.content
    # Slowed down: even the right password must wait, and the refusal says how long.
    response = _sign_in(client, "anna@acme.test", DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert b"Too many failed sign-ins for this account or from this address: wait 1 second" in response.content
    assert "_auth_user_id" not in client.session
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == 3  # a wait is no try
    for _ in range(3):
        _age_failures()
        _sign_in(client, "anna@acme.test", "wrong")
    _age_failures()
    # Locked: the right password is refused too, with a page that says so and for how long.
    locked = _sign_in(client, "anna@acme.test", DEFAULT_PASSWORD)
    assert locked.status_code == 429
    assert b"Sign-in locked for a while" in locked.content and b"15 minutes" in locked.content
    assert "_auth_user_id" not in client.session
    # The account is locked from another address, and the address for another account.
    assert _sign_in(Client(), "anna@acme.test", DEFAULT_PASSWORD, address="10.9.9.9").status_code == 429
    assert _sign_in(Client(), other.username, DEFAULT_PASSWORD).status_code == 429
    # Someone else, elsewhere, signs in as usual.
    fresh = Client()
    assert _sign_in(fresh, other.username, DEFAULT_PASSWORD, address="10.7.7.7").status_code == 302
    # After the lockout, the right password works and forgets the failures.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=16))
    client = Client()
    assert _sign_in(client, "anna@acme.test", DEFAULT_PASSWORD, address="10.5.5.5").status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.django_db
def test_a_successful_sign_in_forgets_earlier_failures(company):
    user = member(company, "accountant", username="anna@acme.test")
    client = Client()
    _sign_in(client, user.username, "wrong")
    _sign_in(client, user.username, "wrong")
    assert _sign_in(client, user.username, DEFAULT_PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username=user.username, failures_since_start__gt=0).exists()


# Password reset by email


@pytest.mark.django_db
def test_password_reset_sends_a_link_that_sets_a_new_password(company, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = member(company, "accountant", username="anna@acme.test", email="anna@acme.test")
    client = Client()
    page = client.get("/login/")
    assert b'href="/password/reset/"' in page.content
    response = client.post("/password/reset/", {"email": "anna@acme.test"})
    assert response.status_code == 302 and response["Location"] == "/password/reset/sent/"
    [message] = mail.outbox
    assert message.to == ["anna@acme.test"] and "new password" in message.subject
    link = re.search(r"http://testserver(/password/reset/\S+/)", message.body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-brand-new-secret-7",
                                                    "new_password2": "a-brand-new-secret-7"})
    assert done.status_code == 302 and done["Location"] == "/password/reset/done/"
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-7")
    assert b"does not work any more" in client.get(link, follow=True).content  # used once


@pytest.mark.django_db
def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = Client().post("/password/reset/", {"email": "nobody@nowhere.test"}, follow=True)
    assert b"If an account signs in with that email" in response.content
    assert mail.outbox == []


# Error pages and logs


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom), *keel.urls.urlpatterns]
handler500 = keel.urls.handler500


@pytest.mark.django_db
def test_a_server_error_shows_keels_page_with_a_reference(settings, company, owner):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and 'href="/"' in html and "Back to the dashboard" in html
    assert response["X-Request-ID"] in html


@pytest.mark.django_db
def test_not_found_is_keels_page_with_a_way_back(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"There is no such page" in response.content and b"Back to the dashboard" in response.content


@pytest.mark.django_db
def test_a_refusal_is_logged_without_a_traceback(company, client_for, caplog):
    employee = client_for(member(company, "employee"))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = employee.post(f"/companies/{company.pk}/edit/", {"city": "X"})
    assert response.status_code == 403
    assert b"Not allowed" in response.content and b"Back to the dashboard" in response.content
    [refusal] = [r for r in caplog.records if r.name == "django.request"]
    assert refusal.getMessage().startswith("Forbidden (Permission denied)")
    assert refusal.exc_info is None and "Traceback" not in caplog.text


@pytest.mark.django_db
def test_an_api_500_answers_json_with_the_request_id(company, owner, monkeypatch, caplog):
    from keel.api.tokens import create_token
    from keel.core import api as core_api

    def broken(user):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(core_api, "memberships", broken)
    _token, key = create_token(user=owner, name="t")
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR, logger="keel.api"):
        response = client.get("/api/companies", HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_REQUEST_ID="req-12345678")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server.error" and body["request_id"] == "req-12345678" == response["X-Request-ID"]
    assert "req-12345678" in body["message"] and "database on fire" not in body["message"]
    assert "database on fire" in caplog.text  # the traceback is in the log, under the request id


@pytest.mark.django_db
def test_every_api_error_carries_the_request_id(client):
    response = client.get("/api/companies")
    assert response.status_code == 401
    assert response.json()["request_id"] == response["X-Request-ID"]
    missing = client.get("/api/no/such/endpoint")
    assert missing.status_code == 404 and missing.json()["request_id"] == missing["X-Request-ID"]
