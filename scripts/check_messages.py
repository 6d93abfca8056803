#!/usr/bin/env python3
"""Fail if a translatable string of the app is missing from a shipped catalogue, or untranslated.

For each language (default: de and fr) this runs Django's ``makemessages`` on a temporary copy of
``accounts/``, so the catalogues in the working tree are never touched, and reads what it made of
the shipped ``accounts/locale/<language>/LC_MESSAGES/django.po``:

* every msgid ``makemessages`` finds in the code and templates must already be in the shipped
  catalogue (otherwise it is *missing*), translated (not *untranslated*) and not *fuzzy*;
* the shipped catalogue must pass ``msgfmt --check`` (a translation keeps the msgid's
  ``%(name)s`` placeholders, plural forms are declared);
* the shipped ``django.mo`` must be the compiled ``django.po``: both are loaded and compared
  message by message, so a forgotten ``compilemessages`` fails too.

Entries the code no longer uses are reported but do not fail the check.

Usage: ``python scripts/check_messages.py [LANGUAGE ...]`` (``make messages-check``). Needs GNU
gettext (``xgettext``, ``msgmerge``, ``msgfmt``; ``apt-get install gettext`` on Debian). Exit
status: 0 when every catalogue is complete, 1 when one is not (or is missing), 2 when the check
cannot run.
"""

from __future__ import annotations

import ast
import gettext
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "accounts"
LANGUAGES = ("de", "fr")
DOMAIN = "django"
TOOLS = ("xgettext", "msgmerge", "msgfmt")
#: Most problems listed per language and kind; the counts are always complete.
LISTED_MAX = 40

Key = tuple[str, str]  # (msgctxt, msgid); msgctxt is "" when there is none


@dataclass
class Entry:
    """One message of a ``.po`` file."""

    context: str = ""
    msgid: str = ""
    plural: str | None = None
    translations: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> Key:
        return (self.context, self.msgid)

    @property
    def is_translated(self) -> bool:
        return bool(self.translations) and all(self.translations)

    @property
    def is_fuzzy(self) -> bool:
        return "fuzzy" in self.flags


def catalogue_path(app: Path, language: str, suffix: str = ".po") -> Path:
    return app / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


def _unquote(text: str) -> str:
    # PO strings are C string literals, which Python reads the same for the escapes gettext
    # writes (\\n, \\t, \\", \\\\).
    value = ast.literal_eval(text)
    if not isinstance(value, str):
        raise ValueError(f"not a string: {text}")
    return value


def parse_po(path: Path) -> dict[Key, Entry]:
    """Read a ``.po`` file into entries by (msgctxt, msgid); the header has the key ("", "")."""
    entries: dict[Key, Entry] = {}
    entry = Entry()
    target: tuple[str, int] | None = None  # which string continuation lines extend
    started = False

    def finish() -> None:
        nonlocal entry, started, target
        if started:
            entries[entry.key] = entry
        entry, started, target = Entry(), False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
            if line.startswith("|"):  # a previous msgid of an obsolete entry
                continue
        elif line.startswith("#,"):
            if started:
                finish()
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        elif line.startswith("#"):
            continue
        if not line:
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if target is None:
                raise ValueError(f"{path}: a string continues nothing: {raw}")
            name, index = target
            text = _unquote(line)
            if name == "msgctxt":
                entry.context += text
            elif name == "msgid":
                entry.msgid += text
            elif name == "msgid_plural":
                entry.plural = (entry.plural or "") + text
            else:
                entry.translations[index] += text
            continue
        if keyword == "msgctxt" or (keyword == "msgid" and entry.translations):
            if entry.translations:  # a new entry starts without a blank line between
                finish()
        started = True
        if keyword == "msgctxt":
            entry.context, target = _unquote(rest), ("msgctxt", 0)
        elif keyword == "msgid":
            entry.msgid, target = _unquote(rest), ("msgid", 0)
        elif keyword == "msgid_plural":
            entry.plural, target = _unquote(rest), ("msgid_plural", 0)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            entry.translations.append(_unquote(rest))
            target = ("msgstr", len(entry.translations) - 1)
        else:
            raise ValueError(f"{path}: cannot read: {raw}")
    finish()
    return entries


def run_makemessages(app_copy: Path, languages: list[str]) -> None:
    """Run ``makemessages`` in ``app_copy`` (a copy of ``accounts/``) for ``languages``."""
    (app_copy / "locale").mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # makemessages needs no project; a settings module in the environment would only have
    # to be importable from the copy.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "django", "makemessages", "--domain", DOMAIN]
    for language in languages:
        command += ["--locale", language]
    subprocess.run(command, cwd=app_copy, env=env, check=True, capture_output=True, text=True)


def extract(languages: list[str], app: Path = APP) -> dict[str, dict[Key, Entry]]:
    """What ``makemessages`` makes of each language's shipped catalogue, by language.

    The shipped catalogues are copied along with the code, so a language without one gets a
    catalogue of the code's msgids only, all untranslated.
    """
    with tempfile.TemporaryDirectory(prefix="accounts-messages-") as tmp:
        app_copy = Path(tmp) / "accounts"
        shutil.copytree(app, app_copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        run_makemessages(app_copy, languages)
        return {language: parse_po(catalogue_path(app_copy, language)) for language in languages}


def compiled(mo: Path) -> dict[object, str]:
    with mo.open("rb") as handle:
        catalog: dict[object, str] = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    return catalog


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def check_compiled(po: Path, mo: Path) -> list[str]:
    """Problems with ``po`` as msgfmt sees them, and with ``mo`` as its compiled form."""
    with tempfile.TemporaryDirectory(prefix="accounts-messages-") as tmp:
        fresh = Path(tmp) / f"{DOMAIN}.mo"
        checked = subprocess.run(
            ["msgfmt", "--check", "--output-file", str(fresh), str(po)],
            capture_output=True,
            text=True,
        )
        if checked.returncode != 0:
            return [f"msgfmt --check {_shown(po)}:\n{checked.stderr.rstrip()}"]
        if not mo.exists():
            return [f"{_shown(mo)} is missing: run compilemessages (make messages)"]
        if compiled(mo) != compiled(fresh):
            return [f"{_shown(mo)} is not the compiled {po.name}: run compilemessages"]
    return []


def _describe(key: Key) -> str:
    context, msgid = key
    text = msgid if len(msgid) <= 90 else msgid[:87] + "..."
    return f"{text!r}" + (f" (context {context!r})" if context else "")


def check(languages: list[str], app: Path = APP) -> int:
    """Check the catalogues of ``app`` for ``languages``; return the exit status."""
    missing_tools = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing_tools:
        print(
            f"cannot check: {', '.join(missing_tools)} not found; install GNU gettext "
            "(apt-get install gettext)",
            file=sys.stderr,
        )
        return 2
    absent = [lang for lang in languages if not catalogue_path(app, lang).exists()]
    if absent:
        for language in absent:
            path = _shown(catalogue_path(app, language))
            print(f"{language}: no catalogue: {path} is missing", file=sys.stderr)
        print(
            "Create and translate it (make messages), compile it, and commit both files.",
            file=sys.stderr,
        )
        return 1
    try:
        updated = extract(languages, app)
    except subprocess.CalledProcessError as error:
        print(f"makemessages failed:\n{error.stdout}{error.stderr}", file=sys.stderr)
        return 2
    failed = False
    for language in languages:
        po = catalogue_path(app, language)
        shipped = {key: entry for key, entry in parse_po(po).items() if not entry.obsolete}
        used = {
            key: entry for key, entry in updated[language].items() if not entry.obsolete and key[1]
        }
        # A changed plural is a new message to the translator, as a changed msgid is.
        missing = sorted(
            key for key in used if key not in shipped or shipped[key].plural != used[key].plural
        )
        present = [key for key in used if key not in missing]
        untranslated = sorted(key for key in present if not shipped[key].is_translated)
        fuzzy = sorted(key for key in present if shipped[key].is_fuzzy)
        unused = sorted(key for key in shipped if key[1] and key not in used)
        problems = check_compiled(po, catalogue_path(app, language, ".mo"))
        for kind, keys in (("missing", missing), ("untranslated", untranslated), ("fuzzy", fuzzy)):
            if not keys:
                continue
            print(f"{language}: {len(keys)} {kind}:")
            for key in keys[:LISTED_MAX]:
                print(f"  {_describe(key)}")
            if len(keys) > LISTED_MAX:
                print(f"  ... and {len(keys) - LISTED_MAX} more")
        for problem in problems:
            print(f"{language}: {problem}")
        if unused:
            print(f"{language}: {len(unused)} no longer used (not a failure)")
        if missing or untranslated or fuzzy or problems:
            failed = True
        else:
            print(f"{language}: complete, {len(used)} messages")
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    languages = argv or list(LANGUAGES)
    return check(languages)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
