"""Django settings for the test suite (not for the sandbox, which has its own).

DATABASE_URL picks the database: unset or empty means SQLite, for example
``postgres://postgres@127.0.0.1:5432/accounts`` or ``mysql://root@127.0.0.1:3306/accounts``.
Django creates and drops its own test database (``test_`` + the database name) on servers, and an
in-memory one on SQLite.
"""

import os
from pathlib import Path

import dj_database_url

TESTS_DIR = Path(__file__).resolve().parent

SECRET_KEY = "tests-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "accounts",
    "accounts.outbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.urls"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{TESTS_DIR / 'db.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    # MySQL's legacy "utf8" cannot store every character a description may hold.
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
    DATABASES["default"]["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
# ACCOUNTS_TEST_PG_PREPARED=1: run the suite with the psycopg 3 options docs/performance.rst
# recommends for throughput (server-side binding, statements prepared after five executions).
if os.environ.get("ACCOUNTS_TEST_PG_PREPARED") and DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

# ACCOUNTS_TEST_PG_ISOLATION=serializable (or repeatable_read): every transaction at that level,
# where PostgreSQL aborts colliding transactions with SQLSTATE 40001 and the facade retries them.
_isolation = os.environ.get("ACCOUNTS_TEST_PG_ISOLATION")
if _isolation and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    from psycopg import IsolationLevel

    DATABASES["default"].setdefault("OPTIONS", {})["isolation_level"] = IsolationLevel[
        _isolation.upper()
    ]
# ACCOUNTS_TEST_PGBOUNCER=1: DATABASE_URL points at PgBouncer in transaction-pooling mode, where
# consecutive transactions of one connection may run on different server connections. Named
# server-side cursors and prepared statements live on one server connection, so neither is used.
if os.environ.get("ACCOUNTS_TEST_PGBOUNCER") and DATABASES["default"]["ENGINE"].endswith(
    "postgresql"
):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = True

STATIC_URL = "static/"

# Hashing passwords properly is slow by design; tests create many users.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
