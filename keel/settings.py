"""Keel's one settings module, configured by KEEL_* environment variables.

The defaults give the embedded set-up: a SQLite file under var/, files under var/media,
background work queued in the same database. Production sets KEEL_DATABASE_URL to a
PostgreSQL URL, KEEL_SECRET_KEY and KEEL_DEBUG=0.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KEEL_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = _env_bool("KEEL_DEBUG", default=True)
SECRET_KEY = os.environ.get(
    "KEEL_SECRET_KEY", "keel-development-only-secret-key-change-me-in-production-0123456789"
)
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
    "keel.core",
    "keel.inbox",
    "keel.insights",
    "keel.api",
    "keel.web",
    "keel.ledger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "keel.core.middleware.ActiveCompanyMiddleware",
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
            ],
        },
    },
]

DATABASE_URL = os.environ.get("KEEL_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'keel.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
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
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
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
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "keel": {"handlers": ["console"], "level": os.environ.get("KEEL_LOG_LEVEL", "INFO")},
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; kept default
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
