"""Make an API key for a user and print it, once (``create_api_key till3 --name "Till 3"``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.api import keys
from accounts.management.base import TranslatedCommand, user_named


class Command(TranslatedCommand):
    help = _(
        "Make an API key for USERNAME and print it. The key is printed once, alone on standard "
        "output so that it can be piped into a secret store; only its hash is kept. It acts as "
        "the user, whose permissions apply (the API needs accounts.use_api)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help=gettext("The user the key acts as."))
        parser.add_argument(
            "--name", required=True, help=gettext('Where the key is used, such as "Till 3".')
        )
        parser.add_argument(
            "--expires-at",
            default=None,
            help=gettext(
                "When the key stops working: ISO 8601 with a UTC offset, such as "
                "2027-01-31T00:00:00Z (default: never)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = user_named(username)
        if user is None:
            raise CommandError(
                gettext("No user is called %(username)s.") % {"username": repr(username[:150])}
            )
        expires_at = None
        if options["expires_at"] is not None:
            try:
                expires_at = parse_datetime(options["expires_at"])
            except (ValueError, OverflowError):
                expires_at = None
            if expires_at is None:
                raise CommandError(gettext("--expires-at must be an ISO 8601 date and time."))
        try:
            key, secret = keys.create_key(user, name=options["name"], expires_at=expires_at)
        except keys.InvalidKeyRequest as refusal:
            raise CommandError(str(refusal)) from refusal
        if not user.is_active:
            self.stderr.write(
                gettext("Warning: %(username)s is inactive; the key will not work.")
                % {"username": username}
            )
        self.stderr.write(
            gettext("API key %(prefix)s (%(name)s) made for %(username)s; it is shown once, below.")
            % {"prefix": key.prefix, "name": key.name, "username": username}
        )
        self.stdout.write(secret)
