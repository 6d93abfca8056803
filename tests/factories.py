"""factory_boy factories for the test suite."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from accounts.models import Account, AccountType, Kind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")


class StaffFactory(UserFactory):
    is_staff = True
    username = factory.Sequence(lambda n: f"staff{n}")


class AccountTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccountType

    name = factory.Sequence(lambda n: f"Type {n}")
    code = factory.Sequence(lambda n: f"type-{n}")


class AccountFactory(factory.django.DjangoModelFactory):
    """A customer's account: a liability with no credit, like a gift card."""

    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    kind = Kind.LIABILITY
    credit_limit = Decimal("0.00")


class SourceAccountFactory(AccountFactory):
    """An asset with no credit limit: where money enters the system."""

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = Kind.ASSET
    credit_limit = None
