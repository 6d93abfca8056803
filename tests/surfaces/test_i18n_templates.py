"""Every text a person reads in the app's templates is marked for translation.

The static tests read each template with Django's own template lexer: text outside
``{% translate %}`` and ``{% blocktranslate %}`` may hold markup, values and punctuation, never
words, and the attributes people read (``title``, ``placeholder``, ``aria-label``, ``alt``, a
button's ``value``) hold no bare words either. Dates shown to people use a format name, so they
follow the active locale; a fixed pattern is only for machines (``<time datetime="...">``).
The runtime tests render pages under the pseudo-German catalogue of :mod:`tests.i18n`, which
now holds the templates' msgids too, and see headings and column heads come out wrapped.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, Token, TokenType
from django.utils import timezone, translation

from accounts import facade

from .. import i18n
from ..factories import AccountFactory
from . import test_dashboard, test_i18n
from .test_dashboard import body, url

# The fixtures of the dashboard's and the app's translation tests, shared.
staff_client = test_dashboard.staff_client
pseudo_locale = test_i18n.pseudo_locale
pseudo_german = test_i18n.pseudo_german

TEMPLATES_DIR = i18n.APP_DIR / "templates"
TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.html"))

#: Words allowed bare in a template's text, each with the reason. Empty for now: currency
#: codes, references and account codes all come from variables, never from the template.
ALLOWED: dict[str, str] = {}

#: Attributes whose text people read (or hear, from a screen reader).
READ_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

#: Stands for a variable or a tag (marked text included) in the text that is left.
HOLE = "\x00"

_LETTER = re.compile(r"[^\W\d_]")
_OPENS = ("blocktranslate", "blocktrans")
_CLOSES = ("endblocktranslate", "endblocktrans")
_ATTRIBUTE = re.compile(
    r"""(?<![\w-])(?P<name>[\w-]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.IGNORECASE
)
_BUTTON_INPUT = re.compile(
    r"""<input\b[^>]*\btype\s*=\s*["']?(?:submit|button|reset)\b[^>]*>""", re.IGNORECASE
)
_INVISIBLE = re.compile(
    r"<!--.*?-->|<(?P<tag>style|script)\b[^>]*>.*?</(?P=tag)\s*>", re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|\w+);", re.IGNORECASE)
#: A ``date`` filter's argument that is a fixed pattern rather than a format name.
_FIXED_DATE = re.compile(r"""\|\s*date\s*:\s*["'](?![A-Z_]+_FORMAT["'])""")


def _tag_name(token: Token) -> str:
    return token.contents.split(None, 1)[0] if token.contents.strip() else ""


def _masked(source: str) -> tuple[str, list[str]]:
    """The template's text with every tag, variable, comment and marked text as :data:`HOLE`,
    and the variables that show a date in a fixed pattern outside a ``datetime`` attribute."""
    parts: list[str] = []
    fixed_dates: list[str] = []
    in_block = in_comment = False
    for token in Lexer(source).tokenize():
        name = _tag_name(token) if token.token_type == TokenType.BLOCK else ""
        if in_comment:
            in_comment = name != "endcomment"
            continue
        if name == "comment":
            in_comment = True
            continue
        if name in _OPENS:
            in_block = True
        elif name in _CLOSES:
            in_block = False
        if _FIXED_DATE.search(token.contents) and token.token_type != TokenType.TEXT:
            before = "".join(parts).rstrip(HOLE)
            if not re.search(r"""\bdatetime\s*=\s*["']$""", before):
                fixed_dates.append(f"line {token.lineno}: {token.split_contents()[0]}")
        if token.token_type == TokenType.TEXT and not in_block:
            parts.append(token.contents)
        else:
            parts.append(HOLE)
    return "".join(parts), fixed_dates


def _words(text: str) -> list[str]:
    return [
        word
        for word in re.split(rf"[\s{HOLE}]+", _ENTITY.sub(HOLE, text))
        if _LETTER.search(word) and word not in ALLOWED
    ]


def unmarked_text(source: str) -> list[str]:
    """What in ``source`` (a template) a person would read untranslated."""
    masked, fixed_dates = _masked(source)
    masked = _INVISIBLE.sub(HOLE, masked)
    problems: list[str] = []
    for tag in _TAG.findall(masked):
        read = list(READ_ATTRIBUTES)
        if _BUTTON_INPUT.fullmatch(tag):
            read.append("value")
        for attribute in _ATTRIBUTE.finditer(tag):
            if attribute["name"].lower() in read:
                value = attribute["dq"] if attribute["dq"] is not None else attribute["sq"]
                problems += [f"{attribute['name']}: {word}" for word in _words(value)]
    problems += [f"text: {word}" for word in _words(_TAG.sub(HOLE, masked))]
    problems += [f"date in a fixed pattern, {where}" for where in fixed_dates]
    return problems


def _where(path: Path) -> str:
    return path.relative_to(TEMPLATES_DIR).as_posix()


# -- the templates, read ----------------------------------------------------------------------


def test_the_app_has_templates_to_check():
    assert len(TEMPLATES) > 20
    assert any(_where(p) == "accounts/dashboard/base.html" for p in TEMPLATES)


@pytest.mark.parametrize("path", TEMPLATES, ids=_where)
def test_no_template_shows_unmarked_text(path):
    assert unmarked_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", TEMPLATES, ids=_where)
def test_every_blocktranslate_is_trimmed(path):
    """Trimmed, so the msgid does not carry the template's indentation and line breaks."""
    blocks = [
        token.contents
        for token in Lexer(path.read_text(encoding="utf-8")).tokenize()
        if token.token_type == TokenType.BLOCK and _tag_name(token) in _OPENS
    ]
    assert [block for block in blocks if "trimmed" not in block.split()] == []


def test_the_check_catches_unmarked_text():
    source = (
        "{% load i18n %}{% comment %}A comment for developers.{% endcomment %}\n"
        "<!-- and an HTML one --><style>body { font-family: serif; }</style>\n"
        '<h1 class="title">Accounts</h1>\n'
        '<h2>{% translate "Marked" %}</h2>\n'
        "<p>{% blocktranslate with n=count trimmed %}Also {{ n }} marked"
        "{% endblocktranslate %}</p>\n"
        '<a title="Bare title" aria-label="{% translate \'Marked label\' %}">{{ name }} —</a>\n'
        '<img alt="A picture" src="x.png"><input placeholder="Search">\n'
        '<input type="submit" value="Go"><input type="hidden" name="next" value="back">\n'
        "<td>{{ when|date:'Y-m-d' }}</td>"
        "<time datetime=\"{{ when|date:'Y-m-d' }}\">{{ when|date:'SHORT_DATE_FORMAT' }}</time>\n"
        "<p>{{ total }} account{{ total|pluralize }} &amp; more</p>"
    )
    assert unmarked_text(source) == [
        "title: Bare",
        "title: title",
        "alt: A",
        "alt: picture",
        "placeholder: Search",
        "value: Go",
        "text: Accounts",
        "text: account",
        "text: more",
        "date in a fixed pattern, line 9: when|date:'Y-m-d'",
    ]


def test_marked_text_and_values_pass_the_check():
    source = (
        "{% load i18n %}<title>{% translate 'Reports' %} · {{ site }}</title>\n"
        '<th scope="col" title="{{ label }} + {{ other }}">'
        '{% translate "Balance" context "noun" %}</th>\n'
        "<td>{{ amount }} {{ currency }} — 12 &nbsp;→ #</td>"
    )
    assert unmarked_text(source) == []


# -- the catalogue ----------------------------------------------------------------------------


def test_the_pseudo_catalogue_holds_the_templates_messages():
    messages, unextractable = i18n.extract()
    assert unextractable == []
    assert i18n.Message(None, "Trial balance", None) in messages
    assert i18n.Message("amount held", "Balance", None) in messages
    assert i18n.Message(None, "%(counter)s account", "%(counter)s accounts") in messages
    assert i18n.Message(None, "Page %(page)s of %(pages)s", None) in messages


# -- pages, rendered --------------------------------------------------------------------------


class _Texts(HTMLParser):
    """The text of each element named in ``wanted`` (the innermost tag wins)."""

    def __init__(self, *wanted: str) -> None:
        super().__init__()
        self.wanted = wanted
        self.found: list[tuple[str, str]] = []
        self.open: list[tuple[str, list[str]]] = []
        self.lang: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in self.wanted:
            self.open.append((tag, []))

    def handle_endtag(self, tag):
        if self.open and self.open[-1][0] == tag:
            name, text = self.open.pop()
            self.found.append((name, " ".join("".join(text).split())))

    def handle_data(self, data):
        if self.open:
            self.open[-1][1].append(data)


def texts(html: str, *wanted: str) -> _Texts:
    parser = _Texts(*wanted)
    parser.feed(html)
    return parser


def _is_currency(text: str) -> bool:
    return re.fullmatch(r"[A-Z]{3}", text) is not None


@pytest.fixture
def books(source):
    card = AccountFactory(
        name="Team budget", end_date=timezone.make_aware(datetime.datetime(2031, 1, 2, 3, 4))
    )
    facade.transfer(source, card, Decimal("12.50"))
    return card


def test_the_account_list_comes_out_translated(staff_client, books, pseudo_german):
    page = texts(body(staff_client.get(url("account_list"))), "title", "h1", "th")
    assert page.lang == test_i18n.PSEUDO_LANGUAGE
    assert page.found
    assert [(tag, text) for tag, text in page.found if not i18n.is_translated(text)] == []
    assert ("title", f"{i18n.pseudo('Accounts')} · {i18n.pseudo('Accounts')}") in page.found
    assert ("h1", i18n.pseudo("Accounts")) in page.found
    assert ("th", i18n.pseudo("Balance")) in page.found  # the noun, from its context


def test_a_report_comes_out_translated(staff_client, books, pseudo_german):
    page = texts(body(staff_client.get(url("report_trial_balance"))), "h1", "h2", "th")
    # A section per currency is headed by its code, and so is each row of the equation.
    checked = [(tag, text) for tag, text in page.found if not _is_currency(text)]
    assert ("h1", i18n.pseudo("Trial balance")) in checked
    assert ("h2", i18n.pseudo("Accounting equation")) in checked
    assert ("th", i18n.pseudo("Debit")) in checked
    assert [(tag, text) for tag, text in checked if not i18n.is_translated(text)] == []


def test_dates_follow_the_language_and_stay_iso_for_machines(staff_client, books):
    with translation.override("de"):
        page = body(staff_client.get(url("account_detail", books.pk)))
    assert '<time datetime="2031-01-02 03:04">02.01.2031 03:04</time>' in page
    with translation.override("en-us"):
        page = body(staff_client.get(url("account_detail", books.pk)))
    assert '<time datetime="2031-01-02 03:04">01/02/2031 3:04 a.m.</time>' in page
