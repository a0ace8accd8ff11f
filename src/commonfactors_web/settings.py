"""Settings of the clinic web app, read from the environment (``docs/web.md`` lists them).

Development defaults: DEBUG on, a SQLite file under ``var/`` (WAL mode), e-mail printed to
the console. ``commonfactors_web.settings_production`` builds on this module and turns on
everything ``manage.py check --deploy`` asks for. Values are checked at start by the system
checks in ``commonfactors_web.checks``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from commonfactors_web.env import env_bool, env_int, env_list, env_path, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parents[1]  # the repository (src/commonfactors_web → repo)
VAR_DIR = env_path("COMMONFACTORS_VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", True)


def _dev_secret_key() -> str:
    """A random key kept in var/ for development only, so that several server processes
    (and restarts) share it."""
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("dev-only-" + secrets.token_urlsafe(48), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _dev_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # background tasks (reminders, alert e-mails): Django's task framework, backported, and
    # its database backend with the worker `python -m commonfactors_web task_worker`
    "django_tasks",
    "django_tasks_db",
    "commonfactors_web.apps.CommonFactorsWebConfig",
    "commonfactors_web.accounts",
    "commonfactors_web.clients",
    "commonfactors_web.checkins",
    "commonfactors_web.alerts",
    "commonfactors_web.audit",
    "commonfactors_web.plans",
    "commonfactors_web.reviews",
    "commonfactors_web.homework",
    "commonfactors_web.reminders",
    "commonfactors_web.exports",
    "commonfactors_web.practice",
    "commonfactors_web.imports",
    "commonfactors_web.reports",
    "commonfactors_web.api",
    "commonfactors_web.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "commonfactors_web.urls"
WSGI_APPLICATION = "commonfactors_web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# -- database: DATABASE_URL (postgres://… or sqlite:///…), else a SQLite file under var/ ---


def _database(url: str) -> dict[str, Any]:
    url = url or f"sqlite:///{VAR_DIR / 'commonfactors.sqlite3'}"
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
        # BEGIN so two submissions queue instead of failing with "database is locked".
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # Tests use a file too (not Django's in-memory default), so that the live server's
        # threads each have their own connection, as in production; one per test run, so
        # that two runs in one checkout never share (and clobber) a database.
        config["TEST"] = {"NAME": str(VAR_DIR / f"test-commonfactors-{os.getpid()}.sqlite3")}
    else:
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database(env_str("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- cache (login and bad-link throttling): locmem, file (var/cache) or database -------------

_CACHE_KIND = env_str("CACHE_BACKEND", "locmem")
_CACHES: dict[str, dict[str, Any]] = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "file": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
    },
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cf_cache",
    },
}
if _CACHE_KIND not in _CACHES:
    raise ImproperlyConfigured(f"CACHE_BACKEND must be one of {', '.join(_CACHES)}")
CACHES = {"default": _CACHES[_CACHE_KIND]}

# -- people -----------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "caseload"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sessions end after SESSION_TIMEOUT_MINUTES without a request (sliding expiry).
SESSION_COOKIE_AGE = env_int("SESSION_TIMEOUT_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"  # a check-in token never leaves in a Referer header

# Content-Security-Policy (django-csp): our own files only; no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# -- e-mail (console in development) ----------------------------------------------------------

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "commonfactors <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# -- static files and language ----------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = env_path("STATIC_ROOT", VAR_DIR / "static")
# The app serves its own few static files (no separate web server needed for a clinic).
SERVE_STATIC = env_bool("SERVE_STATIC", True)

LANGUAGE_CODE = "en"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

# -- commonfactors ----------------------------------------------------------------------------

#: The address in links sent by e-mail outside a request (alerts to therapists).
CF_SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
#: A check-in link works once and for this many hours.
CF_CHECKIN_TTL_HOURS = env_int("CHECKIN_TTL_HOURS", 72, minimum=1)
#: A client's homework-and-journal link works this many days (or until the episode ends).
CF_HOMEWORK_LINK_DAYS = env_int("HOMEWORK_LINK_DAYS", 90, minimum=1)
#: The outcome instrument shown on the caseload (latest score, band, change since intake).
CF_PRIMARY_OUTCOME = env_str("PRIMARY_OUTCOME", "phq9")
#: Login throttling: this many failed logins per user name or address in the window.
CF_LOGIN_ATTEMPTS = env_int("LOGIN_ATTEMPTS", 5, minimum=1)
CF_LOGIN_WINDOW_SECONDS = env_int("LOGIN_WINDOW_SECONDS", 15 * 60, minimum=1)
#: Bad check-in tokens (unknown, expired or used) from one address in the window.
CF_BAD_TOKEN_ATTEMPTS = env_int("BAD_TOKEN_ATTEMPTS", 10, minimum=1)
CF_BAD_TOKEN_WINDOW_SECONDS = env_int("BAD_TOKEN_WINDOW_SECONDS", 15 * 60, minimum=1)
#: Alliance ruptures of instruments without a published threshold use the library's
#: within-client rule, which needs the pooled within-client SD of reference data. The
#: default is the figure docs/trajectories.md reports for the SYNTHETIC registry (session
#: alliance on a 4-point-wide scale, as the 0-4 practice questions); refit on real data.
CF_ALLIANCE_WITHIN_SD = float(env_str("ALLIANCE_WITHIN_SD", "0.344"))
CF_ALLIANCE_WITHIN_SD_SOURCE = env_str(
    "ALLIANCE_WITHIN_SD_SOURCE",
    "SYNTHETIC reference data: pooled within-client SD of session alliance in the "
    "commonfactors synthetic registry (docs/trajectories.md)",
)
#: The practice's own expected-response models, ``instrument=path`` pairs (space or comma
#: separated), fitted by ``python -m commonfactors_web fit_etr``; an instrument not named
#: uses the shipped SYNTHETIC model.
CF_ETR_MODELS = env_str("ETR_MODELS", "")
#: The dropout model on the client page: a model file fitted on the practice's own ended
#: episodes (``python -m commonfactors_web fit_dropout --out FILE``); empty: the shipped
#: SYNTHETIC model, labelled so on the page.
CF_DROPOUT_MODEL = env_str("DROPOUT_MODEL", "")
#: Shown to a client at once after a risk answer, unless the practice sets its own text.
CF_DEFAULT_CRISIS_TEXT = env_str(
    "CRISIS_TEXT",
    "If you might act on thoughts of harming yourself, or you are in danger now, call your "
    "local emergency number (112 in Europe, 999 in the UK, 911 in the US) or go to the "
    "nearest emergency department. You can also call a crisis line at any hour. Your answers "
    "have been passed to your therapist; please do not wait for them if you need help now.",
)

# -- background tasks (docs/reminders.md) -----------------------------------------------------

#: Django's task framework (the django-tasks backport on 5.2) with its database backend: tasks
#: are rows in the database, run by `python -m commonfactors_web task_worker`; no other server.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    },
}
#: A check-in reminder is e-mailed this many hours before the day its check-in is due.
CF_REMINDER_LEAD_HOURS = env_int("REMINDER_LEAD_HOURS", 24, minimum=0)
#: The worker looks for check-ins to remind about this often (one scan per interval, however
#: many workers run).
CF_REMINDER_SCAN_MINUTES = env_int("REMINDER_SCAN_MINUTES", 15, minimum=1)
#: No reminder for a check-in overdue by more than this many days: the caseload shows it as
#: overdue and the therapist decides (no surprise e-mails after a long break).
CF_REMINDER_MAX_LATE_DAYS = env_int("REMINDER_MAX_LATE_DAYS", 7, minimum=0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
