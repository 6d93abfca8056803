"""What the app's management commands share: help in the language they run in, and finding a
user by the username typed on the command line."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.utils.functional import Promise


class TranslatedCommand(BaseCommand):
    """A command whose ``help`` is lazily translated (``gettext_lazy``).

    argparse formats only plain strings, so the description becomes one when the parser is
    made, in the language the command runs in (``LANGUAGE_CODE`` unless the caller activated
    another). Arguments' help is translated in ``add_arguments`` with ``gettext`` for the same
    reason.
    """

    # Django declares a str; a lazy string stands in for one everywhere but argparse.
    help: str | Promise = ""  # type: ignore[assignment]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.description = str(self.help) if self.help else None
        return parser


def user_named(username: str) -> Any:
    """The user whose username is ``username``, or None.

    Text no username can hold (a NUL byte, which PostgreSQL refuses in a query) finds nobody.
    """
    if "\x00" in username:
        return None
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
