"""The fields several API requests share: each declared and parsed in one place.

``code``, ``amount``, ``merchant_reference`` and ``description`` travel in more than one request
body. Each is one type in :mod:`accounts.api.schemas` that every schema carrying the field uses,
and each text field is parsed by its one :class:`~accounts.api.schemas.Text`; the views take
the two optional texts through :func:`~accounts.api.schemas.notes`. The parser tests pin down
today's behaviour: nothing trimmed, blanks kept, NUL and lone surrogates refused before the
length is looked at.
"""

from __future__ import annotations

import ast
import inspect
import json
import typing
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation
from pydantic_core import PydanticCustomError

from accounts import facade
from accounts.api import schemas, views
from accounts.models import Account, Transfer

from ..factories import UserFactory
from .test_api import basic, error_of, grant_api, post, transfer_url_kwargs

API_DIR = Path(schemas.__file__).resolve().parent

#: Each shared field's one declaration, by the name it has in every request body.
SHARED_FIELDS = {
    "code": schemas.CardCode,
    "amount": schemas.Amount,
    "merchant_reference": schemas.OptionalMerchantReference,
    "description": schemas.OptionalDescription,
}
#: The one declaration of a shared field that a request may leave out, where one exists.
OPTIONAL_FIELDS = {"amount": schemas.OptionalAmount}
#: The one parser of each shared text field.
TEXT_OF_FIELD = {
    "code": schemas.CARD_CODE,
    "merchant_reference": schemas.MERCHANT_REFERENCE,
    "description": schemas.DESCRIPTION,
}
TEXTS = [schemas.CARD_CODE, schemas.NAME, schemas.MERCHANT_REFERENCE, schemas.DESCRIPTION]


def request_schemas() -> list[type[schemas.Input]]:
    return [
        value
        for value in vars(schemas).values()
        if inspect.isclass(value)
        and issubclass(value, schemas.Input)
        and value is not schemas.Input
    ]


def texts_in(annotation: typing.Any) -> list[schemas.Text]:
    """The :class:`schemas.Text` specs anywhere in ``annotation``'s ``Annotated`` metadata."""
    found = [
        meta for meta in getattr(annotation, "__metadata__", ()) if isinstance(meta, schemas.Text)
    ]
    for argument in typing.get_args(annotation):
        found += texts_in(argument)
    return found


# -- declared once, used by every schema -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SHARED_FIELDS))
def test_a_shared_field_has_one_declaration_that_every_schema_carrying_it_uses(name):
    carriers = [model for model in request_schemas() if name in model.model_fields]
    assert len(carriers) >= 2, f"{name} is not shared"
    for model in carriers:
        hints = typing.get_type_hints(model, include_extras=True)
        assert hints[name] in (SHARED_FIELDS[name], OPTIONAL_FIELDS.get(name)), (
            f"{model.__name__}.{name}"
        )


@pytest.mark.parametrize("name", sorted(TEXT_OF_FIELD))
def test_a_shared_text_field_is_parsed_by_its_one_text_in_every_schema(name):
    for model in request_schemas():
        if name in model.model_fields:
            hints = typing.get_type_hints(model, include_extras=True)
            assert [id(text) for text in texts_in(hints[name])] == [id(TEXT_OF_FIELD[name])]


def test_the_optional_texts_are_optional_in_every_schema():
    for model in request_schemas():
        for name in ("merchant_reference", "description"):
            if name in model.model_fields:
                assert not model.model_fields[name].is_required()
                assert model.model_fields[name].default is None


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted(API_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                function = node.func
                called = function.attr if isinstance(function, ast.Attribute) else None
                if isinstance(function, ast.Name):
                    called = function.id
                if called == name:
                    found.append((path.name, node))
    return found


def test_each_text_field_is_specified_once_and_amounts_parsed_once():
    assert [file for file, _ in _calls("Text")] == ["schemas.py"] * len(TEXTS)
    assert len({(text.max_length, text.description) for text in TEXTS}) == len(TEXTS)
    amount_parsers = [
        call
        for _, call in _calls("PlainValidator")
        if any(isinstance(arg, ast.Name) and arg.id == "_parse_amount" for arg in call.args)
    ]
    assert len(amount_parsers) == 1


def test_the_views_take_the_optional_texts_only_through_notes():
    source = Path(views.__file__).read_text(encoding="utf-8")
    assert "payload.description" not in source
    assert "payload.merchant_reference" not in source
    assert len([call for file, call in _calls("notes") if file == "views.py"]) == 4


def test_the_text_specs_are_what_the_document_says():
    document = views.document()["components"]["schemas"]
    for model in request_schemas():
        for name in model.model_fields:
            hints = typing.get_type_hints(model, include_extras=True)
            for text in texts_in(hints[name]):
                shown = document[model.__name__]["properties"][name]
                assert shown["maxLength"] == text.max_length
                assert shown["description"] == text.description


# -- the text parser ---------------------------------------------------------------------------


def refusal(text: schemas.Text, value: typing.Any) -> PydanticCustomError:
    with translation.override("en"), pytest.raises(PydanticCustomError) as raised:
        text.validate(value)
    return raised.value


@pytest.mark.parametrize("text", TEXTS, ids=lambda text: str(text.max_length))
def test_the_longest_text_is_taken_one_more_character_is_refused(text):
    assert text.validate("x" * text.max_length) == "x" * text.max_length
    refused = refusal(text, "x" * (text.max_length + 1))
    assert refused.type == "invalid_field"
    assert refused.message_template == (
        "The field %(field)s may hold at most %(limit)d characters."
    )
    assert refused.context == {"limit": text.max_length}


def test_length_counts_characters_not_bytes():
    text = schemas.MERCHANT_REFERENCE
    assert text.validate("é" * text.max_length) == "é" * text.max_length
    assert text.validate("😀" * text.max_length) == "😀" * text.max_length


@pytest.mark.parametrize("text", TEXTS, ids=lambda text: str(text.max_length))
@pytest.mark.parametrize("value", ["\x00", "ORDER\x00-1", "\x00" * 1000])
def test_nul_is_refused_whatever_the_length(text, value):
    refused = refusal(text, value)
    assert refused.type == "invalid_field"
    assert refused.message_template == "The field %(field)s may not contain NUL."
    assert refused.context is None


@pytest.mark.parametrize("value", ["\ud800", "till-\udfff", "\ud800" * 1000])
def test_a_lone_surrogate_is_refused_whatever_the_length(value):
    refused = refusal(schemas.DESCRIPTION, value)
    assert refused.type == "invalid_field"
    assert refused.message_template == "The field %(field)s is not valid Unicode text."


@pytest.mark.parametrize("value", [5, Decimal("1.5"), True, ["a"], {"a": 1}, None, b"bytes"])
def test_anything_but_a_string_is_refused(value):
    refused = refusal(schemas.MERCHANT_REFERENCE, value)
    assert refused.type == "invalid_field"
    assert refused.message_template == "The field %(field)s must be a string."


@pytest.mark.parametrize("value", ["", " ", "\t\n", "  ORDER-1  ", "a\u00a0b", "\u202e", "'; --"])
def test_blank_and_surrounding_spaces_are_kept_as_sent(value):
    for text in TEXTS:
        assert text.validate(value) == value


# -- notes: what the views hand the facade -------------------------------------------------------


@pytest.mark.parametrize(
    "given, default, expected",
    [
        ({}, "Redemption", "Redemption"),
        ({"description": ""}, "Refund", "Refund"),
        ({"description": " "}, "Refund", " "),
        ({"description": "Till 7"}, "Reversal", "Till 7"),
        ({}, None, None),
        ({"description": ""}, None, ""),
    ],
)
def test_notes_default_only_a_missing_or_empty_description(given, default, expected):
    payload = schemas.Reverse(**given)
    assert schemas.notes(payload, default) == {
        "merchant_reference": None,
        "description": expected,
    }


@pytest.mark.parametrize("reference", ["", " ", "ORDER-1"])
def test_notes_pass_the_merchant_reference_as_sent(reference):
    payload = schemas.Refund(amount="1.00", merchant_reference=reference)
    assert schemas.notes(payload, "Refund")["merchant_reference"] == reference


# -- through the API -------------------------------------------------------------------------


@pytest.fixture
def api_user(db):
    return grant_api(UserFactory())


@pytest.fixture
def auth(api_user):
    return basic(api_user)


@pytest.fixture
def card(db):
    return facade.create_card(amount=Decimal("50.00"), name="Card")


def made(response) -> Transfer:
    assert response.status_code == 201, response.content
    return Transfer.objects.get(reference=response.json()["reference"])


@pytest.mark.parametrize("body", [{}, {"description": ""}])
def test_each_endpoint_describes_its_transfer_when_the_request_does_not(client, auth, card, body):
    created = post(client, "accounts", {"amount": "5.00", **body}, auth=auth)
    assert created.status_code == 201
    assert created.json()["transfer"]["description"] == "Initial load"
    redemption = made(
        post(client, "redemptions", {"code": card.code, "amount": "10.00", **body}, auth=auth)
    )
    assert redemption.description == "Redemption"
    refund = made(
        post(
            client,
            "transfer-refunds",
            {"amount": "1.00", **body},
            auth=auth,
            kwargs=transfer_url_kwargs(redemption),
        )
    )
    assert refund.description == "Refund"
    reversal = made(
        post(client, "transfer-reverse", body, auth=auth, kwargs=transfer_url_kwargs(refund))
    )
    assert reversal.description == "Reversal"


def test_texts_reach_the_ledger_as_sent(client, auth, card):
    texts = {"merchant_reference": "  ORDER-1 ", "description": " Till 7 "}
    body = {"code": card.code, "amount": "1.00", **texts}
    redemption = made(post(client, "redemptions", body, auth=auth))
    assert redemption.merchant_reference == texts["merchant_reference"]
    assert redemption.description == texts["description"]


@pytest.mark.parametrize(
    "field, value, message",
    [
        (
            "description",
            "x" * 501,
            "The field 'description' may hold at most 500 characters.",
        ),
        (
            "merchant_reference",
            "x" * 129,
            "The field 'merchant_reference' may hold at most 128 characters.",
        ),
        (
            "merchant_reference",
            "A\x00",
            "The field 'merchant_reference' may not contain NUL.",
        ),
        ("description", 7, "The field 'description' must be a string."),
        ("description", None, "The field 'description' may be left out, but not null."),
    ],
)
@pytest.mark.parametrize(
    "name", ["accounts", "redemptions", "transfer-refunds", "transfer-reverse"]
)
def test_every_endpoint_refuses_a_bad_text_alike(client, auth, card, name, field, value, message):
    base = {
        "accounts": {"amount": "5.00"},
        "redemptions": {"code": card.code, "amount": "1.00"},
        "transfer-refunds": {"amount": "1.00"},
        "transfer-reverse": {},
    }[name]
    kwargs = None
    if name.startswith("transfer-"):
        redemption = facade.transfer(card, Account.objects.sales(), Decimal("5.00"))
        kwargs = transfer_url_kwargs(redemption)
    response = post(client, name, json.dumps({**base, field: value}), auth=auth, kwargs=kwargs)
    assert response.status_code == 400
    assert error_of(response) == "invalid_field"
    assert response.json()["message"] == message


def test_the_first_field_in_the_body_schema_is_the_one_reported(client, auth):
    body = {"code": 5, "amount": "1.00", "description": "x" * 501}
    response = post(client, "redemptions", body, auth=auth)
    assert response.json()["message"] == "The field 'code' must be a string."
