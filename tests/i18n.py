"""A pseudo-translation of the app, so tests can see which strings are marked for translation.

:func:`extract` reads the app's Python modules the way ``makemessages`` does (the same gettext
keywords, string literals only) with the ``ast`` module, and its templates through Django's own
``templatize`` (what ``makemessages`` hands xgettext for a template), so these tests need no GNU
gettext.
:func:`write_pseudo_catalogue` writes a compiled catalogue (``.mo``) in which every msgid found
translates to itself between :data:`OPEN` and :data:`CLOSE`. Under that catalogue a message
that was marked comes out wrapped; one that was not marked, or was marked in a way
``makemessages`` cannot extract (an f-string, a variable, an alias it does not know), comes out
bare, and :func:`is_translated` says so.
"""

from __future__ import annotations

import ast
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent.parent / "accounts"

#: The markers around every pseudo-translation; no real message contains them.
OPEN, CLOSE = "⟪", "⟫"

#: The gettext functions makemessages extracts from Python (xgettext's defaults plus the
#: keywords Django adds), with the positions of their msgctxt, msgid and msgid_plural.
KEYWORDS: dict[str, tuple[int | None, int, int | None]] = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}

#: A message's key in a compiled catalogue: msgctxt EOT msgid, and NUL msgid_plural.
CONTEXT_SEPARATOR = "\x04"


@dataclass(frozen=True)
class Message:
    context: str | None
    msgid: str
    plural: str | None


@dataclass(frozen=True)
class Unextractable:
    """A gettext call whose text makemessages cannot read: it is never translated."""

    where: str
    line: int
    source: str


def keyword_of(call: ast.Call) -> str | None:
    """The gettext keyword ``call`` calls (``gettext(...)``, ``translation.gettext(...)``)."""
    func = call.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name if name in KEYWORDS else None


def gettext_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and keyword_of(node) is not None:
            yield node


def python_files(root: Path = APP_DIR) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def template_files(root: Path = APP_DIR) -> list[Path]:
    """The app's templates, as ``makemessages`` finds them (``.html`` and ``.txt``)."""
    return sorted(p for p in root.rglob("*") if p.suffix in (".html", ".txt") and p.is_file())


_TEMPLATE_CALL = re.compile(r"\b(?:gettext|pgettext|ngettext|npgettext)\(")


def template_calls(source: str, origin: str) -> Iterator[ast.Call]:
    """The gettext calls ``templatize`` turns a template's translate and blocktranslate into.

    Its output is Python-like only around the calls (the rest is masked with letters), so each
    call is parsed on its own: from its name to the first closing parenthesis that ends it.
    """
    # Imported here: django.utils.translation.template needs no settings, but tests.i18n is
    # imported before Django is set up.
    from django.utils.translation.template import templatize

    text = templatize(source, origin)
    for match in _TEMPLATE_CALL.finditer(text):
        end = match.end()
        while (end := text.find(")", end)) != -1:
            end += 1
            try:
                expression = ast.parse(text[match.start() : end], mode="eval").body
            except SyntaxError:
                continue
            assert isinstance(expression, ast.Call)
            # Point the line at the template's own line (templatize keeps the lines).
            expression.lineno = text.count("\n", 0, match.start()) + 1
            yield expression
            break


def extract(root: Path = APP_DIR) -> tuple[set[Message], list[Unextractable]]:
    """Every message the app's modules and templates mark, and every call whose text cannot be
    extracted."""
    found: set[Message] = set()
    unextractable: list[Unextractable] = []
    sources: list[tuple[Path, str, Iterator[ast.Call]]] = []
    for path in python_files(root):
        source = path.read_text(encoding="utf-8")
        sources.append((path, source, gettext_calls(ast.parse(source, filename=str(path)))))
    for path in template_files(root):
        source = path.read_text(encoding="utf-8")
        sources.append((path, source, template_calls(source, str(path))))
    for path, source, calls in sources:
        for call in calls:
            keyword = keyword_of(call)
            assert keyword is not None
            positions = KEYWORDS[keyword]
            texts: list[str | None] = []
            for position in positions:
                if position is None:
                    texts.append(None)
                    continue
                arg = call.args[position] if position < len(call.args) else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    texts.append(arg.value)
                else:
                    texts = []
                    break
            if not texts:
                unextractable.append(
                    Unextractable(
                        str(path.relative_to(root.parent)),
                        call.lineno,
                        (
                            ast.get_source_segment(source, call) or ""
                            if path.suffix == ".py"
                            else ast.unparse(call)
                        ),
                    )
                )
                continue
            context, msgid, plural = texts
            assert msgid is not None
            found.add(Message(context, msgid, plural))
    return found, unextractable


def pseudo(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}"


def is_translated(text: str) -> bool:
    """Whether all of ``text`` came out of the pseudo catalogue (values inside it are fine)."""
    return text.startswith(OPEN) and text.endswith(CLOSE)


def write_mo(path: Path, translations: dict[str, str]) -> None:
    """Write a GNU ``.mo`` file (as CPython's Tools/i18n/msgfmt.py does) for ``translations``.

    Keys and values are already in catalogue form: plurals joined with NUL, contexts with EOT;
    the header is the translation of "".
    """
    keys = sorted(translations, key=lambda k: k.encode("utf-8"))
    ids = strs = b""
    offsets: list[tuple[int, int, int, int]] = []
    for key in keys:
        key_bytes, value_bytes = key.encode("utf-8"), translations[key].encode("utf-8")
        offsets.append((len(ids), len(key_bytes), len(strs), len(value_bytes)))
        ids += key_bytes + b"\0"
        strs += value_bytes + b"\0"
    header_size = 7 * 4
    keys_start = header_size + len(keys) * 16
    values_start = keys_start + len(ids)
    table: list[int] = []
    for id_offset, id_length, _, _ in offsets:
        table += [id_length, id_offset + keys_start]
    for _, _, str_offset, str_length in offsets:
        table += [str_length, str_offset + values_start]
    output = struct.pack(
        "<7I", 0x950412DE, 0, len(keys), header_size, header_size + len(keys) * 8, 0, 0
    )
    output += struct.pack(f"<{len(table)}I", *table) + ids + strs
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(output)


HEADER = "Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n != 1);\n"


def write_pseudo_catalogue(locale_dir: Path, language: str, messages: set[Message]) -> Path:
    """Write ``<locale_dir>/<language>/LC_MESSAGES/django.mo`` translating ``messages``."""
    translations = {"": HEADER}
    for message in messages:
        key = message.msgid
        value = pseudo(message.msgid)
        if message.plural is not None:
            key += "\0" + message.plural
            value += "\0" + pseudo(message.plural)
        if message.context is not None:
            key = message.context + CONTEXT_SEPARATOR + key
        translations[key] = value
    path = locale_dir / language / "LC_MESSAGES" / "django.mo"
    write_mo(path, translations)
    return path
