"""Settings for the sandbox: a demo site to click through, never used by the test suite.

DATABASE_URL overrides the default SQLite file ``sandbox/db.sqlite3``, exactly as for the tests.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url

SANDBOX_DIR = Path(__file__).resolve().parent.parent

# A demo site served on localhost only; never deploy these settings.
SECRET_KEY = "sandbox-insecure-demo-key"
DEBUG = True
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "mptt",
    "accounts",
    # The demo data (no models): the load_demo_data command that `make sandbox` runs.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of each page: the language cookie the home page's switcher sets, else the
    # browser's Accept-Language, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SANDBOX_DIR / "templates"],
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
        os.environ.get("DATABASE_URL") or f"sqlite:///{SANDBOX_DIR / 'db.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {})["charset"] = "utf8mb4"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
# British English: the demo shop sells in GBP, and its dates read 04/12/2026 rather than 12/04.
LANGUAGE_CODE = "en-gb"
USE_I18N = True
# English (the code's own language) and the languages the app ships catalogues for. A browser
# asking for any English gets en-gb.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch"), ("fr", "Français")]

STATIC_URL = "static/"

LOGIN_URL = "admin:login"

# The three core accounts the app creates on migrate. The shop's source of money is its till
# (the shared house in the demo data has a "Bank" of its own).
ACCOUNTS_SOURCE_NAME = "Shop till"
ACCOUNTS_SALES_NAME = "Shop sales"
ACCOUNTS_EXPIRED_NAME = "Expired gift cards"
# Loads and top-ups from the dashboard and the API must lie between these amounts.
ACCOUNTS_MIN_INITIAL_VALUE = Decimal("5.00")
ACCOUNTS_MAX_INITIAL_VALUE = Decimal("500.00")
