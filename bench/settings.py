"""Django settings for the benchmark harness (``python -m bench``), separate from tests and sandbox.

``DATABASE_URL`` picks the database, as for ``make test``: unset or empty means an SQLite file
under ``.tmp/``. On PostgreSQL and MariaDB the harness creates the named database if it is
missing and migrates it; it never touches a test database.
"""

import os
from pathlib import Path

import dj_database_url

REPO_DIR = Path(__file__).resolve().parent.parent
SQLITE_PATH = REPO_DIR / ".tmp" / "bench.sqlite3"

SECRET_KEY = "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "mptt",
    "accounts",
]

DATABASES = {
    "default": dj_database_url.parse(os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"
# SQLite opens transactions with a deferred BEGIN by default. With
# BENCH_SQLITE_TRANSACTION_MODE=IMMEDIATE (Django 5.1+) every transaction takes the write lock at
# BEGIN instead, so that concurrent writers queue for it rather than fail.
SQLITE_TRANSACTION_MODE = os.environ.get("BENCH_SQLITE_TRANSACTION_MODE", "").upper()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and SQLITE_TRANSACTION_MODE:
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = SQLITE_TRANSACTION_MODE
# --pg-prepared: Django's own options for server-side parameter binding with psycopg 3, and
# psycopg's preparing of a statement after its fifth execution (Django disables that by default).
if os.environ.get("BENCH_PG_PREPARED") and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
