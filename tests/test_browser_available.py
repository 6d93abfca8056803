"""Whether the browser tests ran, said in one line: skipped with the reason, or checked.

Without Chromium (or Playwright's Python package) ``tests/conftest.py`` leaves ``tests/browser``
out so that ``make test`` passes on any developer's machine; this test is then skipped with the
reason, which pytest's summary shows. With ``ACCOUNTS_REQUIRE_BROWSER=1`` (CI) a missing
browser fails here and in every browser test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from .conftest import CHROMIUM_PATH, REQUIRE_BROWSER, browser_missing

REPO = Path(__file__).resolve().parent.parent


def test_the_browser_tests_can_run_here():
    reason = browser_missing()
    if reason and not REQUIRE_BROWSER:
        pytest.skip(f"browser tests left out: {reason}")
    assert reason is None, f"ACCOUNTS_REQUIRE_BROWSER=1 but {reason}"
    assert os.access(CHROMIUM_PATH, os.X_OK)


def run_pytest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **env}
    environment.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_a_machine_without_chromium_passes_with_the_browser_tests_skipped():
    # As `make test` collects (naming tests/browser on the command line would bypass the
    # conftest's collect_ignore): the browser tests' modules and the one that says why.
    found = run_pytest(
        "tests",
        "-k",
        "can_run_here or test_access or test_tour",
        BROWSER_TESTS_CHROMIUM="/nonexistent/chromium",
        ACCOUNTS_REQUIRE_BROWSER="0",
    )
    assert found.returncode == 0, found.stdout + found.stderr
    assert "1 skipped" in found.stdout
    # Without Playwright's package (tox installs only the test extra) that is the reason given.
    reason = browser_missing() or "no Chromium at /nonexistent/chromium"
    if "Playwright" not in reason:
        reason = "no Chromium at /nonexistent/chromium"
    assert f"browser tests left out: {reason}" in found.stdout


def test_ci_fails_when_the_browser_it_requires_is_missing():
    found = run_pytest(
        "-x",
        "tests/browser/test_access.py",
        BROWSER_TESTS_CHROMIUM="/nonexistent/chromium",
        ACCOUNTS_REQUIRE_BROWSER="1",
    )
    output = found.stdout + found.stderr
    assert found.returncode not in (0, 5), output
    if find_spec("playwright") is None:
        assert "No module named 'playwright'" in output
    else:
        assert "need Chromium at /nonexistent/chromium" in output
