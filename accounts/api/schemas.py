"""The API's request and response bodies, as pydantic schemas.

django-ninja validates requests against these and generates the OpenAPI document from them,
so the document cannot drift from what the views accept. The field types carry the API's
rules and error codes (``PydanticCustomError`` types are the codes the client sees, see
:func:`accounts.api.http.validation_refusal`):

* an amount is a JSON *string* holding a plain decimal (``"12.50"``): a JSON number is
  ``amount_must_be_decimal``, because many clients read JSON numbers as binary floats; any
  other text is ``invalid_amount``; the ledger then refuses zero, negative and over-precise
  amounts with its own codes;
* text is a string every supported database stores as given (no NUL, no lone surrogate);
* optional fields may be left out but are never ``null``; unknown fields are refused.

Responses show card codes masked (``****-****-****-PB3N``) and accounts that are not cards
as ``null``; only the response that creates a card shows its code in full, once.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypedDict

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext
from ninja import Schema
from pydantic import (
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, PydanticCustomError

from .. import money
from ..models import HoldStatus, Status, TransferKind

#: Longest amount string accepted, so parsing never works on huge numbers.
AMOUNT_LENGTH_MAX = 32
#: Longest texts accepted; ``name`` and ``merchant_reference`` are the model's own limits.
NAME_LENGTH_MAX = 128
MERCHANT_REFERENCE_LENGTH_MAX = 128
DESCRIPTION_LENGTH_MAX = 500
#: Longest code text looked at; no card's code is longer (``Account.code`` holds 64).
CODE_TEXT_LENGTH_MAX = 64
#: Years an ``end_date`` may fall in (every database stores these; MySQL stops at 9999).
YEAR_MIN = 1970
YEAR_MAX = 9999

#: A decimal written plainly, as in ``"12.50"``: no exponent, no spaces, no thousands marks.
AMOUNT_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
_AMOUNT_RE = re.compile(AMOUNT_PATTERN, re.ASCII)
CURRENCY_PATTERN = r"^[A-Z]{3}$"


def _refuse(code: str, message: str, **context: Any) -> PydanticCustomError:
    """A refusal with the API's ``code``: ``message`` is a whole sentence, in the active language.

    It names the field ``%(field)s`` (the validators never know which field they check) and
    its other values ``%(name)s`` too, filled from ``context`` when the answer is made (see
    :func:`accounts.api.http.validation_refusal`).
    """
    return PydanticCustomError(code, message, context or None)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise _refuse("invalid_field", gettext("The field %(field)s must be a string."))
    return value


def _storable(value: str) -> str:
    if "\x00" in value:
        raise _refuse("invalid_field", gettext("The field %(field)s may not contain NUL."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate such as "\ud800"
        raise _refuse(
            "invalid_field", gettext("The field %(field)s is not valid Unicode text.")
        ) from None
    return value


@dataclass(frozen=True)
class Text:
    """A text field of a request: its one parser and its one description in the document.

    Used as metadata of ``Annotated[str, Text(...)]``: pydantic validates the field with
    :meth:`validate` and documents it as a string of at most ``max_length`` characters.

    The parser's name is part of the API's messages: in an optional field, pydantic puts
    ``function-plain[validate()]`` into the error's location, which the message quotes.
    """

    max_length: int
    description: str

    def validate(self, value: Any) -> str:
        """Return ``value`` unchanged if it is storable text of at most ``max_length``.

        Nothing is trimmed: spaces, an empty text and any other characters are kept as sent;
        what an empty text means is each endpoint's business (see :func:`notes`).
        """
        text = _storable(_string(value))
        if len(text) > self.max_length:
            raise _refuse(
                "invalid_field",
                ngettext(
                    "The field %(field)s may hold at most %(limit)d character.",
                    "The field %(field)s may hold at most %(limit)d characters.",
                    self.max_length,
                ),
                limit=self.max_length,
            )
        return text

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return PlainValidator(self.validate).__get_pydantic_core_schema__(source, handler)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        document = {"type": "string", "maxLength": self.max_length, "description": self.description}
        return WithJsonSchema(document).__get_pydantic_json_schema__(schema, handler)


def _parse_amount(value: Any) -> Decimal:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise _refuse(
            "amount_must_be_decimal",
            gettext(
                'The field %(field)s must be sent as a string such as "12.50", not as a JSON '
                "number: JSON numbers are read as binary floats by many clients."
            ),
        )
    text = _string(value)
    if len(text) > AMOUNT_LENGTH_MAX or not _AMOUNT_RE.fullmatch(text):
        raise _refuse(
            "invalid_amount",
            gettext(
                'The field %(field)s must be a decimal number written as a string, like "12.50".'
            ),
        )
    return Decimal(text)


def _parse_currency(value: Any) -> str:
    text = _string(value)
    if not money.is_valid_currency(text):
        raise _refuse(
            "invalid_currency", gettext("The field %(field)s must be an ISO 4217 code like GBP.")
        )
    return text


def _parse_moment(value: Any) -> datetime.datetime:
    """An ISO 8601 date and time with its UTC offset, returned in UTC."""
    text = _storable(_string(value))
    refusal = _refuse(
        "invalid_datetime",
        gettext(
            "The field %(field)s must be an ISO 8601 date and time with a UTC offset, between "
            "the years %(first)d and %(last)d."
        ),
        first=YEAR_MIN,
        last=YEAR_MAX,
    )
    try:
        parsed = parse_datetime(text[:40])
        if len(text) > 40 or parsed is None or parsed.tzinfo is None:
            raise refusal
        parsed = parsed.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        raise refusal from None
    if not YEAR_MIN <= parsed.year <= YEAR_MAX:
        raise refusal
    return parsed


#: An amount in a request: a JSON string holding a plain decimal, read as a Decimal.
Amount = Annotated[
    Decimal,
    PlainValidator(_parse_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "maxLength": AMOUNT_LENGTH_MAX,
            "description": 'A decimal amount written as a JSON string, such as "12.50"; JSON '
            "numbers are refused. No more decimal places than the currency allows.",
        }
    ),
]
#: An amount a request may leave out (a capture's: all of the hold when left out).
OptionalAmount = Amount | SkipJsonSchema[None]
#: The texts a request may carry, each parsed and documented by its one :class:`Text`.
CARD_CODE = Text(
    CODE_TEXT_LENGTH_MAX,
    "The card's code as the customer gives it; case, spaces and dashes do not matter.",
)
NAME = Text(NAME_LENGTH_MAX, "A label.")
MERCHANT_REFERENCE = Text(
    MERCHANT_REFERENCE_LENGTH_MAX, "Your own reference, such as an order number."
)
DESCRIPTION = Text(DESCRIPTION_LENGTH_MAX, "Free text stored on the transfer.")

CardCode = Annotated[str, CARD_CODE]
Name = Annotated[str, NAME]
MerchantReference = Annotated[str, MERCHANT_REFERENCE]
Description = Annotated[str, DESCRIPTION]
#: The two texts every request that moves money may carry: optional, left out rather than null.
OptionalMerchantReference = MerchantReference | SkipJsonSchema[None]
OptionalDescription = Description | SkipJsonSchema[None]
Currency = Annotated[
    str,
    PlainValidator(_parse_currency),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": CURRENCY_PATTERN,
            "description": "ISO 4217; defaults to ACCOUNTS_DEFAULT_CURRENCY. Other currencies "
            "need a source account in that currency.",
        }
    ),
]
Moment = Annotated[
    datetime.datetime,
    PlainValidator(_parse_moment),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": f"With a UTC offset, years {YEAR_MIN} to {YEAR_MAX}.",
        }
    ),
]


class Input(Schema):
    """A request body: unknown fields refused, optional fields left out rather than null."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise _refuse(
                "invalid_field", gettext("The field %(field)s may be left out, but not null.")
            )
        return value


class CreateAccount(Input):
    amount: Amount = Field(
        description="The opening load, within ACCOUNTS_MIN_INITIAL_VALUE and "
        "ACCOUNTS_MAX_INITIAL_VALUE."
    )
    name: Name | SkipJsonSchema[None] = None
    currency: Currency | SkipJsonSchema[None] = None
    end_date: Moment | SkipJsonSchema[None] = Field(
        default=None, description="When the card expires."
    )
    merchant_reference: OptionalMerchantReference = None
    description: OptionalDescription = None


class Lookup(Input):
    code: CardCode


class Redeem(Input):
    code: CardCode
    amount: Amount
    merchant_reference: OptionalMerchantReference = None
    description: OptionalDescription = None


class Refund(Input):
    amount: Amount
    merchant_reference: OptionalMerchantReference = None
    description: OptionalDescription = None


class Reverse(Input):
    merchant_reference: OptionalMerchantReference = None
    description: OptionalDescription = None


class AuthoriseHold(Input):
    code: CardCode
    amount: Amount
    expires_at: Moment | SkipJsonSchema[None] = Field(
        default=None,
        description="When the hold stops being capturable; in the future. Left out, the hold "
        "stays until it is captured or voided.",
    )
    merchant_reference: OptionalMerchantReference = None
    description: OptionalDescription = None


class CaptureHold(Input):
    amount: OptionalAmount = Field(
        default=None,
        description="What to post, at most the amount held; left out, all of it. The rest is "
        "released.",
    )
    description: OptionalDescription = None


class VoidHold(Input):
    """Voiding takes no fields: send ``{}``."""


class Notes(TypedDict):
    """The texts a request hands to the facade call that moves its money."""

    merchant_reference: str | None
    description: str | None


def notes(
    payload: CreateAccount | Redeem | Refund | Reverse | AuthoriseHold,
    default_description: str | None = None,
) -> Notes:
    """The request's ``merchant_reference`` and ``description``, as the facade takes them.

    A description left out or empty is ``default_description`` when there is one (the
    endpoint's word for its transfer, such as "Redemption"); without one, it is passed on as
    it came, for the facade's own default. Both texts are otherwise kept exactly as sent.
    """
    description = payload.description
    if not description and default_description is not None:
        description = default_description
    return {"merchant_reference": payload.merchant_reference, "description": description}


# -- responses ----------------------------------------------------------------------------------

AmountText = Annotated[str, Field(pattern=AMOUNT_PATTERN)]
CurrencyText = Annotated[str, Field(pattern=CURRENCY_PATTERN)]
MomentText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
NullableMomentText = Annotated[
    str | None, WithJsonSchema({"type": ["string", "null"], "format": "date-time"})
]


class Output(Schema):
    model_config = ConfigDict(extra="forbid")


class Error(Output):
    """Every refusal: a stable code for programs and a message for people."""

    code: str = Field(description="Stable, machine-readable.")
    message: str = Field(description="For people; may change. Never holds a full card code.")


class Account(Output):
    """A card as the API shows it."""

    code: str = Field(
        description="The card's code: masked (****-****-****-PB3N) except in the response "
        "that creates the card, which shows it once in full."
    )
    name: str
    currency: CurrencyText
    balance: AmountText
    amount_available: AmountText | None = Field(
        description="How much can still be spent: the balance, less what pending holds "
        "reserve, plus the credit limit."
    )
    posted: AmountText = Field(description="The posted balance (the same as balance).")
    pending: AmountText = Field(
        description="What the pending holds would add to the balance if all were captured "
        "(signed: holds on the card's own spending are negative)."
    )
    status: Status
    is_active: bool = Field(description="Open and inside its start and end dates: money can move.")
    start_date: NullableMomentText
    end_date: NullableMomentText
    created_at: MomentText


class Leg(Output):
    account: str | None = Field(
        description="The card's masked code; null for an account that is not a card (the "
        "shop's own accounts, such as sales, are never named)."
    )
    amount: AmountText = Field(description="Signed: a credit is positive, a debit negative.")
    balance_after: AmountText | None = Field(
        description="The card's balance after this leg; null for accounts that are not cards."
    )


class Transfer(Output):
    reference: str = Field(description="As printed on receipts; no authority to spend.")
    kind: TransferKind
    amount: AmountText
    currency: CurrencyText
    source: str | None = Field(
        description="The debited card's masked code; null if it is not a card, or if the "
        "transfer has more than two legs."
    )
    destination: str | None = Field(
        description="The credited card's masked code; null if it is not a card, or if the "
        "transfer has more than two legs."
    )
    parent: str | None = Field(description="The transfer this one refunds or reverses.")
    merchant_reference: str | None
    description: str
    created_at: MomentText
    refundable_amount: AmountText = Field(
        description="What can still be refunded or reversed of this transfer."
    )
    legs: list[Leg] = Field(min_length=2)


class CreatedAccount(Output):
    account: Account = Field(description="The new card, with its code in full, shown once.")
    transfer: Transfer = Field(description="Its opening load.")


class Hold(Output):
    """Funds reserved on a card (an authorisation), until captured, voided or expired."""

    reference: str = Field(description="The hold's reference; no authority to spend.")
    status: HoldStatus
    amount: AmountText = Field(description="What was authorised.")
    currency: CurrencyText
    source: str | None = Field(description="The card's masked code; null if not a card.")
    destination: str | None = Field(description="The credited card's masked code, or null.")
    captured_amount: AmountText | None = Field(description="What the capture posted, or null.")
    released_amount: AmountText = Field(
        description="What went back to the card without being posted (0 while pending)."
    )
    transfer: str | None = Field(description="The reference of the capture's transfer.")
    merchant_reference: str | None
    description: str
    expires_at: NullableMomentText
    created_at: MomentText
    resolved_at: NullableMomentText


class HoldList(Output):
    count: int = Field(description="How many holds match, over every page.")
    holds: list[Hold]


class CapturedHold(Output):
    hold: Hold = Field(description="The hold, now captured.")
    transfer: Transfer = Field(description="The transfer the capture posted.")
