"""Sphinx configuration.

The docs build without importing Django or the package: the version is read from
accounts/__init__.py by regex, and no extension needs the network.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_version() -> str:
    text = (ROOT / "accounts" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if match is None:
        raise RuntimeError("accounts/__init__.py does not define __version__")
    return match.group(1)


project = "django-managed-accounts"
author = "the django-managed-accounts authors"
copyright = "the django-managed-accounts authors"
release = read_version()
version = ".".join(release.split(".")[:2])

extensions: list[str] = []

root_doc = "index"
exclude_patterns = ["_build"]
html_theme = "alabaster"
