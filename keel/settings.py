"""Keel's one settings module, configured by KEEL_* environment variables.

The defaults give the embedded set-up: a SQLite file under var/, files under var/media,
background work queued in the same database, debug off, a secret key generated at first
start and kept in var/secret_key. Production sets KEEL_DATABASE_URL to a PostgreSQL URL and
KEEL_HTTPS=1 (see "Production settings" in the README); `keel serve --dev` turns debug on.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url

from keel.keyfile import key_from_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEEL_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("KEEL_DEBUG", default=False)
# No key is built in: KEEL_SECRET_KEY, or one generated once per installation under var/.
SECRET_KEY = os.environ.get("KEEL_SECRET_KEY") or key_from_file(VAR_DIR / "secret_key")
ALLOWED_HOSTS = [h for h in os.environ.get("KEEL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("KEEL_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "keel.core",
    "keel.inbox",
    "keel.insights",
    "keel.api",
    "keel.web",
    "keel.ledger",
]

MIDDLEWARE = [
    "keel.core.http.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "keel.core.http.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "keel.core.middleware.ActiveCompanyMiddleware",
    "keel.api.errors.RequestIdInErrorsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "keel.urls"
WSGI_APPLICATION = "keel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "keel.web.context_processors.navigation",
                "keel.core.http.csp_nonce",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("KEEL_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'keel.sqlite3'}"
# Connections are closed after each request unless the process reuses its threads: `keel serve`
# (gunicorn's fixed pool of threads) sets KEEL_DB_CONN_MAX_AGE, so each thread keeps one
# connection and a server holds at most workers x threads of them. The development server
# starts a thread per request: persistent connections there leaked one per request.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=int(os.environ.get("KEEL_DB_CONN_MAX_AGE", "0")), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
    # BEGIN, so two writers queue instead of deadlocking on a lock upgrade. A 64 MiB page
    # cache (SQLite's default is 2 MiB) keeps the journal-line indexes in memory while a
    # large posting batch inserts into them.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
                        " PRAGMA cache_size=-65536;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ.get("KEEL_TEST_SQLITE_NAME", "")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Counts failed sign-ins and refuses locked accounts and addresses (django-axes).
    "keel.web.auth.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling: from the KEEL_LOGIN_SLOWDOWN_AFTER-th failure on an account or from an
# address, each try waits twice as long as the one before (1 s, 2 s, ... at most a minute);
# at KEEL_LOGIN_FAILURE_LIMIT failures the account and the address are locked for
# KEEL_LOGIN_LOCKOUT_MINUTES. A successful sign-in forgets the failures.
KEEL_LOGIN_SLOWDOWN_AFTER = int(os.environ.get("KEEL_LOGIN_SLOWDOWN_AFTER", "3"))
AXES_FAILURE_LIMIT = int(os.environ.get("KEEL_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("KEEL_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_CALLABLE = "keel.web.auth.login_name"
AXES_CLIENT_IP_CALLABLE = "keel.web.auth.client_address"
AXES_VERBOSE = False
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("KEEL_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names once `keel serve` has collected the files (var/static).
    "staticfiles": {"BACKEND": "keel.core.http.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("KEEL_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: attachments go through a permission check

# Attachments: what a user may upload to a record.
KEEL_ATTACHMENT_MAX_BYTES = int(os.environ.get("KEEL_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
KEEL_ATTACHMENT_EXTENSIONS = [
    e.strip().lower()
    for e in os.environ.get(
        "KEEL_ATTACHMENT_EXTENSIONS",
        "pdf,png,jpg,jpeg,gif,txt,csv,xlsx,docx,odt,ods,xml,json,zip",
    ).split(",")
    if e.strip()
]

# Tamper evidence beyond the database: `keel audit anchor` (and the worker, every
# KEEL_AUDIT_ANCHOR_EVERY seconds) writes signed checkpoints of each company's activity
# chain to this folder, signed with KEEL_AUDIT_ANCHOR_KEY or a key kept in var/ (0600).
# Keep both where the database's users cannot write (see the README).
KEEL_AUDIT_ANCHOR_DIR = Path(os.environ.get("KEEL_AUDIT_ANCHOR_DIR", VAR_DIR / "anchors"))
KEEL_AUDIT_ANCHOR_KEY_FILE = Path(os.environ.get("KEEL_AUDIT_ANCHOR_KEY_FILE", VAR_DIR / "audit_anchor_key"))
KEEL_AUDIT_ANCHOR_EVERY = float(os.environ.get("KEEL_AUDIT_ANCHOR_EVERY", "3600"))

# Background work: Django's tasks API, queued in the database by default.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("KEEL_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# Events whose handlers fail are retried this many times, with growing pauses, before the
# delivery stays failed and waits for an administrator.
KEEL_EVENT_MAX_ATTEMPTS = int(os.environ.get("KEEL_EVENT_MAX_ATTEMPTS", "5"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        # A refusal (403) is logged as one line, not as a traceback of PermissionDenied.
        "refusals_without_traceback": {"()": "keel.core.http.RefusalsWithoutTraceback"},
        "request_id": {"()": "keel.core.http.RequestIdLogFilter"},
    },
    "formatters": {
        "keel": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "keel", "filters": ["request_id"]},
    },
    "loggers": {
        "keel": {"handlers": ["console"], "level": os.environ.get("KEEL_LOG_LEVEL", "INFO")},
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False,
                           "filters": ["refusals_without_traceback"]},
        "axes": {"level": "WARNING"},
    },
}

# Mail: password resets. Printed on the console unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get("KEEL_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("KEEL_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("KEEL_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("KEEL_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("KEEL_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("KEEL_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("KEEL_DEFAULT_FROM_EMAIL", "keel@localhost")
PASSWORD_RESET_TIMEOUT = 3 * 60 * 60

# HTTPS: KEEL_HTTPS=1 when users reach Keel over HTTPS (directly or through a proxy that
# terminates TLS). KEEL_PROXY_SSL_HEADER=1 trusts the proxy's X-Forwarded-Proto (and its
# X-Forwarded-For for the sign-in throttle); set it only behind a proxy that sets them.
KEEL_HTTPS = _env_bool("KEEL_HTTPS", default=False)
KEEL_TRUST_PROXY = _env_bool("KEEL_PROXY_SSL_HEADER", default=False)
if KEEL_TRUST_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = KEEL_HTTPS
CSRF_COOKIE_SECURE = KEEL_HTTPS
SECURE_SSL_REDIRECT = KEEL_HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("KEEL_HSTS_SECONDS", str(365 * 24 * 3600))) if KEEL_HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("KEEL_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = _env_bool("KEEL_HSTS_PRELOAD", default=True)
SILENCED_SYSTEM_CHECKS = [
    # Turning these off is a deliberate choice of the operator, not an oversight.
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; kept default
X_FRAME_OPTIONS = "DENY"
# Content security policy (keel.core.http): scripts and styles from Keel only, plus inline
# scripts that carry the request's nonce. Inline style attributes stay allowed (tables
# indent report rows with them); no plug-ins, no framing, forms post to Keel only.
KEEL_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'{script_hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Templates whose inline script (without template syntax) is allowed by its hash.
KEEL_CSP_INLINE_SCRIPT_TEMPLATES = ["ledger/budgets/budget_grid.html"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
