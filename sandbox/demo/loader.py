"""Build the sandbox's demo data through :mod:`accounts.facade`, as a real project would.

Three parts, each in its own database transaction and each skipped when it is already there,
so loading twice adds nothing:

* **users**: ``admin`` (superuser), ``staff`` (a shop manager: the whole dashboard), ``clerk``
  (a shop assistant: sells and tops up cards, refunds, never sees a card's full code), ``api``
  (a till on the JSON API) and a few customers who own accounts but cannot log in;
* **shop**: the three core accounts, gift cards (designated customer cards, made by
  ``facade.create_card``: some expiring within days, some expired, some partly or fully spent,
  one refunded, one reversed, one frozen, one closed) and a B2B customer buying on a credit
  line (a house account with a credit limit, not a card: the shop posts its orders);
* **house**: a shared house's general ledger, an account tree with a month of rent and bills.

Amounts, codes and the shape of the data come from a fixed random seed, so every run builds the
same books; dates are relative to the moment it runs. Postings are back-dated over the last
weeks, in date order, so statements and balance charts have history. The corrections staff
would make today (a reversal, expiry sweeps, freezing, closing) are posted now.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils import timezone

from accounts import codes, facade, roles
from accounts.facade import Credit, Debit
from accounts.models import Account, AccountType, Kind, Transfer

#: Seed of every random choice; change it and the demo data changes.
SEED = 2718
GIFT_CARD_COUNT = 36
#: The first gift card's number; the others follow.
FIRST_CARD_NUMBER = 1001
#: Roles of gift cards, by their position in the batch.
EXPIRING_SOON = range(0, 4)
EXPIRED_OPEN = range(4, 8)  # expired, still holding money: close_expired_accounts sweeps them
EXPIRED_SWEPT = range(8, 10)  # expired and already swept into the expired account
OPEN_ENDED = range(10, 13)
FULLY_SPENT = (14, 15)
CLOSED = 15
FROZEN = 16
REFUNDED = 17
REVERSED = 18
OWNERS = {10: "alice", 20: "alice", 21: "bharat", 22: "chen"}
LOAD_AMOUNTS = (10, 15, 20, 25, 30, 40, 50, 75, 100, 150)

CREDIT_LINE_CODE = "DEMO-B2B-NORTHWIND"
CREDIT_LIMIT = Decimal("5000.00")
CREDIT_LINE_BUYER = "northwind"
#: Days ago of each B2B purchase, and of the one payment the customer has made.
PURCHASE_DAYS_AGO = (52, 41, 30, 17, 9, 3)
PAYMENT_DAYS_AGO = 20
PAYMENT = Decimal("1500.00")

CUSTOMERS = ("alice", "bharat", "chen", CREDIT_LINE_BUYER)

#: Demo logins: username, password, what they are for.
LOGINS = (
    ("admin", "admin", "superuser: the admin, the dashboard and everything else"),
    ("staff", "staff", "shop manager: the whole dashboard, cards' codes, corrections"),
    ("clerk", "clerk", "shop assistant: sells, tops up and refunds cards; sees codes masked"),
    ("api", "api", "a till on the JSON API: its own refunds and reversals"),
)
#: What the ``clerk`` login may do: sell cards (loaded from the till), top up and take
#: payments from cards, refund, and read accounts and transfers. Not: see a card's full code
#: (except once, on the page of a card they just made), reverse, spend from customers' own
#: cards, or read the reports.
CLERK_PERMISSIONS = (
    "view_account",
    "add_account",
    "change_account",
    "view_transfer",
    "refund_transfer",
)
#: What the ``api`` login (a till) may do: the till role's ``use_api``, which lets it correct the
#: transfers it made itself; other tills' transfers need ``correct_any_transfer``, left to staff.
TILL_PERMISSIONS = roles.TILL.permissions

HOUSE = "12 Elm Road, a shared house of four"
HOUSEMATES = ("Ana", "Ben", "Chloe", "Dev")
RENT = Decimal("450.00")
#: The house's chart of accounts: code, name, kind, parent code.
HOUSE_ACCOUNTS = (
    ("HOUSE-ASSETS", "Assets", Kind.ASSET, None),
    ("HOUSE-BANK", "Bank", Kind.ASSET, "HOUSE-ASSETS"),
    ("HOUSE-INCOME", "Income", Kind.INCOME, None),
    ("HOUSE-RENT", "Rent Income", Kind.INCOME, "HOUSE-INCOME"),
    ("HOUSE-LIABILITIES", "Liabilities", Kind.LIABILITY, None),
    ("HOUSE-ELECTRICITY", "Electricity Payable", Kind.LIABILITY, "HOUSE-LIABILITIES"),
    ("HOUSE-EXPENSES", "Expenses", Kind.EXPENSE, None),
    ("HOUSE-GROCERIES", "Groceries", Kind.EXPENSE, "HOUSE-EXPENSES"),
    ("HOUSE-UTILITIES", "Utilities", Kind.EXPENSE, "HOUSE-EXPENSES"),
    ("HOUSE-EQUITY", "Equity", Kind.EQUITY, None),
    ("HOUSE-OPENING", "Opening balance", Kind.EQUITY, "HOUSE-EQUITY"),
)


@dataclass
class Result:
    """What one run did: for each part, whether it was created or already there."""

    created: dict[str, bool] = field(default_factory=dict)

    def describe(self) -> list[str]:
        return [
            f"{part}: {'created' if made else 'already there, left as it was'}"
            for part, made in self.created.items()
        ]


def load() -> Result:
    """Load every part that is missing; return what was done."""
    result = Result()
    result.created["users"] = load_users()
    result.created["shop"] = load_shop()
    result.created["house"] = load_house()
    return result


# -- users -----------------------------------------------------------------------------------


def staff_permissions() -> list[Permission]:
    """What the ``staff`` login may do: everything in the app but deleting, the API and its keys.

    That includes the dashboard's whole table: seeing cards' codes (``view_card_code``),
    reversing and refunding, spending from customers' cards on their behalf. API keys are the
    admin's: a key acts as its user, so making one for someone else is acting as them.
    """
    return list(
        Permission.objects.filter(content_type__app_label="accounts")
        .exclude(codename__startswith="delete_")
        .exclude(codename="use_api")
        .exclude(content_type__model="apikey")
    )


def _permissions(codenames: tuple[str, ...]) -> list[Permission]:
    found = list(
        Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
    )
    if len(found) != len(codenames):
        raise LookupError(f"Missing permissions among {', '.join(codenames)}; run migrate.")
    return found


def _user(username: str, password: str | None, **flags: bool) -> tuple[object, bool]:
    """Return the user called ``username``, creating it (``None``: no password) if missing."""
    User = get_user_model()
    try:
        return User.objects.get(username=username), False
    except User.DoesNotExist:
        user = User(username=username, email=f"{username}@example.com", **flags)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save()
        return user, True


def load_users() -> bool:
    """Create the demo logins and customers that are missing; existing ones keep passwords."""
    made = []
    with transaction.atomic():
        for username, password, _ in LOGINS:
            flags = {
                "is_staff": username in ("admin", "staff", "clerk"),
                "is_superuser": username == "admin",
            }
            user, created = _user(username, password, **flags)
            made.append(created)
        users = get_user_model().objects
        users.get(username="staff").user_permissions.add(*staff_permissions())
        users.get(username="clerk").user_permissions.add(*_permissions(CLERK_PERMISSIONS))
        users.get(username="api").user_permissions.add(*_permissions(TILL_PERMISSIONS))
        for username in CUSTOMERS:
            made.append(_user(username, None)[1])
    return any(made)


# -- the shop: gift cards and a credit line --------------------------------------------------


def _code(rng: random.Random) -> str:
    """A code shaped like the app's generated ones, but drawn from the seeded generator."""
    raw = "".join(rng.choice(codes.ALPHABET) for _ in range(codes.CODE_LENGTH))
    size = codes.GROUP_SIZE
    return "-".join(raw[i : i + size] for i in range(0, len(raw), size))


def _pounds(rng: random.Random, low: Decimal, high: Decimal) -> Decimal:
    """A random amount from ``low`` to ``high``, in whole pence."""
    pence = rng.randint(int(low * 100), int(high * 100))
    return (Decimal(pence) / 100).quantize(Decimal("0.01"))


def _moment(
    rng: random.Random, start: datetime.datetime, end: datetime.datetime
) -> datetime.datetime:
    """A random moment between ``start`` and ``end``, to the minute."""
    minutes = max(1, int((end - start).total_seconds() // 60))
    return start + datetime.timedelta(minutes=rng.randint(0, minutes - 1))


@dataclass
class CardPlan:
    index: int
    code: str
    amount: Decimal
    loaded_at: datetime.datetime
    end_date: datetime.datetime | None
    spends: list[tuple[datetime.datetime, Decimal]]
    owner: str | None

    @property
    def number(self) -> int:
        return FIRST_CARD_NUMBER + self.index

    @property
    def expired(self) -> bool:
        return self.index in EXPIRED_OPEN or self.index in EXPIRED_SWEPT


def plan_cards(rng: random.Random, now: datetime.datetime) -> list[CardPlan]:
    """Decide every gift card's code, load, end date and spending."""
    plans = []
    day = datetime.timedelta(days=1)
    for index in range(GIFT_CARD_COUNT):
        code = _code(rng)
        amount = Decimal(rng.choice(LOAD_AMOUNTS)).quantize(Decimal("0.01"))
        expired = index in EXPIRED_OPEN or index in EXPIRED_SWEPT
        end_date: datetime.datetime | None
        if expired:
            end_date = now - rng.randint(1, 12) * day
            loaded_at = _moment(rng, now - 90 * day, now - 30 * day)
        else:
            if index in EXPIRING_SOON:
                end_date = now + rng.randint(1, 6) * day
            elif index in OPEN_ENDED:
                end_date = None
            else:
                end_date = now + rng.randint(20, 400) * day
            loaded_at = _moment(rng, now - 60 * day, now - 4 * day)
        must_spend = index in FULLY_SPENT or index in (REFUNDED, REVERSED, 4, 5, 8)
        count = rng.randint(1, 3) if must_spend or rng.random() < 0.45 else 0
        last_use = (end_date if expired else now) - datetime.timedelta(hours=2)
        moments = sorted(
            _moment(rng, loaded_at + datetime.timedelta(hours=1), last_use) for _ in range(count)
        )
        spends, remaining = [], amount
        for position, when in enumerate(moments):
            if index in FULLY_SPENT and position == count - 1:
                spent = remaining
            else:
                spent = _pounds(rng, Decimal("1.00"), max(Decimal("1.00"), remaining * 2 / 5))
            spends.append((when, spent))
            remaining -= spent
        plans.append(CardPlan(index, code, amount, loaded_at, end_date, spends, OWNERS.get(index)))
    return plans


@dataclass
class CreditLinePlan:
    purchases: list[tuple[datetime.datetime, Decimal, str]]
    payment_at: datetime.datetime


def plan_credit_line(rng: random.Random, now: datetime.datetime) -> CreditLinePlan:
    purchases = []
    for number, days_ago in enumerate(PURCHASE_DAYS_AGO, start=2041):
        when = now - datetime.timedelta(days=days_ago, hours=rng.randint(1, 8))
        purchases.append((when, _pounds(rng, Decimal("250"), Decimal("1000")), f"INV-{number}"))
    return CreditLinePlan(purchases, now - datetime.timedelta(days=PAYMENT_DAYS_AGO, hours=3))


@dataclass
class Posting:
    """A dated two-legged transfer to make; ``key`` remembers it, ``refunds`` names a parent."""

    when: datetime.datetime
    source: Account
    destination: Account
    amount: Decimal
    description: str
    user: Any = None
    reference: str | None = None
    key: tuple[int, int] | None = None
    refunds: tuple[int, int] | None = None


def post_in_date_order(postings: list[Posting]) -> dict[tuple[int, int], Transfer]:
    """Post through the facade, oldest first, so every account's legs come in date order.

    Returns the transfers that were given a ``key``.
    """
    posted: dict[tuple[int, int], Transfer] = {}
    for item in sorted(postings, key=lambda p: p.when):  # stable: ties keep their order
        made = facade.transfer(
            item.source,
            item.destination,
            item.amount,
            parent=posted[item.refunds] if item.refunds else None,
            user=item.user,
            merchant_reference=item.reference,
            description=item.description,
            date=item.when,
        )
        if item.key:
            posted[item.key] = made
    return posted


def load_shop() -> bool:
    """Create the core accounts, the gift cards and the credit line, unless already there."""
    with transaction.atomic():
        Account.objects.create_core_accounts()
        if Account.objects.filter(code=CREDIT_LINE_CODE).exists():
            return False
        rng = random.Random(SEED)
        now = timezone.now()
        _build_shop(plan_cards(rng, now), plan_credit_line(rng, now), now)
    return True


def _build_shop(cards: list[CardPlan], credit: CreditLinePlan, now: datetime.datetime) -> None:
    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=[*CUSTOMERS, "staff"])}
    staff = users.get("staff")
    source, sales = Account.objects.source(), Account.objects.sales()
    gift_cards, _ = AccountType.objects.get_or_create(
        code="gift-cards",
        defaults={"name": "Gift cards", "description": "Cards sold in the shop and online."},
    )
    credit_lines, _ = AccountType.objects.get_or_create(
        code="credit-lines",
        defaults={"name": "Credit lines", "description": "Business customers buying on account."},
    )
    tomorrow = now + datetime.timedelta(days=1)
    accounts: dict[int, Account] = {}
    for plan in cards:
        # Expired cards start with an end date ahead, so their history can be posted; it is
        # moved into the past below, once their loads and spending are on the books. Each is
        # a designated card (a liability with a credit limit of 0), loaded below with a
        # back-dated sale.
        accounts[plan.index] = facade.create_card(
            code=plan.code,
            name=f"Gift card {plan.number}",
            description=_card_description(plan),
            account_type=gift_cards,
            end_date=tomorrow if plan.expired else plan.end_date,
            primary_user=users.get(plan.owner) if plan.owner else None,
        )
    credit_line = Account.objects.create(
        code=CREDIT_LINE_CODE,
        name="Northwind Traders",
        description=f"Wholesale customer buying on account, up to {CREDIT_LIMIT} GBP.",
        account_type=credit_lines,
        kind=Kind.LIABILITY,
        credit_limit=CREDIT_LIMIT,
        primary_user=users.get(CREDIT_LINE_BUYER),
    )

    postings: list[Posting] = []
    for plan in cards:
        card = accounts[plan.index]
        postings.append(
            Posting(
                plan.loaded_at,
                source,
                card,
                plan.amount,
                "Gift card sold",
                reference=f"SALE-{plan.number}",
            )
        )
        for k, (when, amount) in enumerate(plan.spends):
            postings.append(
                Posting(
                    when,
                    card,
                    sales,
                    amount,
                    "Redeemed at the till",
                    user=card.primary_user,
                    reference=f"ORDER-{plan.number}-{k + 1}",
                    key=(plan.index, k),
                )
            )
        if plan.index == REFUNDED:
            when, amount = plan.spends[0]
            postings.append(
                Posting(
                    when + datetime.timedelta(hours=1),
                    sales,
                    card,
                    (amount / 2).quantize(Decimal("0.01")),
                    "Item returned",
                    user=staff,
                    refunds=(plan.index, 0),
                )
            )
    buyer = credit_line.primary_user
    for when, amount, invoice in credit.purchases:
        postings.append(
            Posting(
                when, credit_line, sales, amount, "Wholesale order", user=buyer, reference=invoice
            )
        )
    postings.append(
        Posting(
            credit.payment_at,
            source,
            credit_line,
            PAYMENT,
            "Payment received by bank transfer",
            user=staff,
        )
    )
    posted = post_in_date_order(postings)

    # Today's corrections, as staff would make them.
    for plan in cards:
        if plan.expired:
            Account.objects.filter(pk=accounts[plan.index].pk).update(end_date=plan.end_date)
    for index in EXPIRED_SWEPT:
        facade.expire_account(accounts[index], user=staff)
    facade.reverse(posted[(REVERSED, 0)], user=staff, description="Till error: wrong card")
    facade.freeze_account(accounts[FROZEN], user=staff)
    facade.close_account(accounts[CLOSED], user=staff)


def _card_description(plan: CardPlan) -> str:
    if plan.index == FROZEN:
        return "Reported lost by its owner; frozen until it is found."
    if plan.index in OPEN_ENDED:
        return "Store credit with no expiry date."
    return "Sold online." if plan.index % 3 == 0 else "Sold in the shop."


def sample_card() -> Account | None:
    """A spendable demo gift card, to try the API with."""
    now = timezone.now()
    return (
        Account.objects.active(now)
        .filter(
            is_card=True,
            account_type__code="gift-cards",
            balance__gt=0,
            end_date__gt=now + datetime.timedelta(days=30),
        )
        .order_by("name")
        .first()
    )


# -- the shared house ------------------------------------------------------------------------


def house_postings(accounts: dict[str, Account]) -> list[tuple[int, Callable[..., object]]]:
    """A month of the house's books: (days ago, a call that posts it with the date it gets)."""
    bank, rent = accounts["HOUSE-BANK"], accounts["HOUSE-RENT"]
    power, groceries = accounts["HOUSE-ELECTRICITY"], accounts["HOUSE-GROCERIES"]
    utilities, opening = accounts["HOUSE-UTILITIES"], accounts["HOUSE-OPENING"]

    # transfer(source=A, destination=B) debits A and credits B. Money arriving in the bank is a
    # debit to Bank (an asset grows with debits); spending is a credit to Bank.
    def move(
        source: Account, destination: Account, amount: str, text: str
    ) -> Callable[..., object]:
        return lambda date: facade.transfer(
            source, destination, Decimal(amount), description=text, date=date
        )

    postings: list[tuple[int, Callable[..., object]]] = [
        (30, move(bank, opening, "1200.00", "Balance brought forward from last year")),
    ]
    postings += [(29, move(bank, rent, str(RENT), f"Rent: {name}")) for name in HOUSEMATES]
    postings += [
        (27, move(groceries, bank, "84.35", "Weekly shop")),
        # The bill is owed when it arrives (a liability) and settled when paid.
        (25, move(utilities, power, "96.40", "Electricity bill arrives")),
        (
            22,
            lambda date: facade.post(
                [
                    Debit(groceries, Decimal("52.10")),
                    Debit(utilities, Decimal("11.90")),
                    Credit(bank, Decimal("64.00")),
                ],
                description="Supermarket: food, and cleaning things for the house",
                date=date,
            ),
        ),
        (20, move(groceries, bank, "77.80", "Weekly shop")),
        (18, move(power, bank, "96.40", "Electricity bill paid")),
        (15, move(utilities, bank, "35.00", "Broadband")),
        (13, move(groceries, bank, "91.25", "Weekly shop")),
        (10, move(utilities, bank, "42.60", "Water")),
        (6, move(groceries, bank, "68.90", "Weekly shop")),
        (2, move(utilities, power, "103.15", "Electricity bill arrives")),
        (0, move(groceries, bank, "58.40", "Weekly shop")),
    ]
    return postings


def load_house() -> bool:
    """Create the shared house's account tree and a month of its books, unless already there."""
    with transaction.atomic():
        if Account.objects.filter(code="HOUSE-BANK").exists():
            return False
        house, _ = AccountType.objects.get_or_create(
            code="shared-house", defaults={"name": "Shared house", "description": HOUSE}
        )
        accounts: dict[str, Account] = {}
        for code, name, kind, parent in HOUSE_ACCOUNTS:
            accounts[code] = Account.objects.create(
                code=code,
                name=name,
                kind=kind,
                description=HOUSE,
                account_type=house,
                parent=accounts[parent] if parent else None,
                credit_limit=Decimal("0.00"),
                # The bank account takes bank statements (demo_statement writes one).
                is_bank=code == "HOUSE-BANK",
            )
        now = timezone.now()
        for order, (days_ago, post) in enumerate(house_postings(accounts)):
            # Two hours before now on the day, a minute apart, so same-day postings keep order.
            post(
                now - datetime.timedelta(days=days_ago, hours=2) + datetime.timedelta(minutes=order)
            )
    return True
