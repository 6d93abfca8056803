"""Packaging for django-managed-accounts.

Runtime dependencies stay minimal; database drivers and development tools are extras so that an
installation only pulls in what it uses.
"""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    # Read by regex rather than import: importing the package would need Django configured.
    text = (HERE / "accounts" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if match is None:
        raise RuntimeError("accounts/__init__.py does not define __version__")
    return match.group(1)


setup(
    name="django-managed-accounts",
    version=read_version(),
    description="Managed accounts on a double-entry ledger for Django",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    author="the django-managed-accounts authors",
    license_expression="BSD-3-Clause",
    license_files=["LICENSE"],
    packages=find_packages(include=["accounts", "accounts.*"]),
    include_package_data=True,
    zip_safe=False,
    python_requires=">=3.10",
    install_requires=[
        "Django>=4.2",
        "django-mptt>=0.16",
        "python-dateutil>=2.8",
    ],
    extras_require={
        # The JSON API (accounts.api): validation, authentication and its OpenAPI document.
        "api": ["django-ninja>=1.3"],
        # Django's postgresql backend uses psycopg 3 when present, psycopg2 otherwise.
        "postgres": ["psycopg[binary]>=3.1"],
        "postgres2": ["psycopg2-binary>=2.9"],
        # Builds from source: needs the MariaDB/MySQL client headers and pkg-config.
        "mysql": ["mysqlclient>=2.2"],
        "test": [
            "pytest>=7.4",
            "pytest-django>=4.7",
            "factory-boy>=3.3",
            "dj-database-url>=2.1",
            # The suite imports the JSON API, so it needs the api extra's dependency too.
            "django-ninja>=1.3",
            # Fuzzing the JSON API against its OpenAPI document (tests/test_api_fuzz.py).
            "schemathesis>=4.0",
            "hypothesis>=6.130",
            # The printable card's QR code (the qr extra), so its tests run.
            "segno>=1.5",
            # OFX/QFX statements (the ofx extra), so their tests run.
            "ofxtools>=0.9.5",
        ],
        # What `make sandbox` installs: the demo site reads DATABASE_URL and mounts the API.
        "sandbox": ["dj-database-url>=2.1", "django-ninja>=1.3", "segno>=1.5"],
        # A QR code of the card's code on the dashboard's printable card; without it the
        # page shows the code as text only.
        "qr": ["segno>=1.5"],
        # OFX 1.x/2.x and QFX bank statements (accounts.statements); without it such a file is
        # refused with a message naming this extra. CSV and CAMT.053 need nothing.
        "ofx": ["ofxtools>=0.9.5"],
        "lint": [
            "ruff>=0.5",
            "mypy>=1.10",
            "django-stubs>=4.2",
        ],
        # The browser tests (tests/browser/) drive the system's Chromium (Debian package
        # `chromium`); only Playwright's Python package is installed, never its browsers.
        "browser": ["playwright>=1.40"],
        "docs": ["sphinx>=7.0"],
        # The benchmark harness needs nothing beyond the package and a database driver so far.
        "bench": [],
    },
    keywords="django accounts ledger double-entry bookkeeping giftcards credit",
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Environment :: Web Environment",
        "Framework :: Django",
        "Framework :: Django :: 4.2",
        "Framework :: Django :: 5.2",
        "Framework :: Django :: 6.0",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Topic :: Office/Business :: Financial :: Accounting",
    ],
)
