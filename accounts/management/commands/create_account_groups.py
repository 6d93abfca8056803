"""Create (or bring up to date) a Django group per role: till, staff and supervisor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.management.base import TranslatedCommand
from accounts.roles import ROLES


class Command(TranslatedCommand):
    help = _(
        "Create a group for each role around the ledger (till, staff, supervisor) holding the "
        "permissions that role needs. Safe to run again: existing groups get missing permissions "
        "added; nothing is ever removed from a group."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=gettext("Print what would change, change nothing."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        wanted = {code for role in ROLES for code in role.permissions}
        found = {
            p.codename: p
            for p in Permission.objects.filter(
                content_type__app_label="accounts", codename__in=wanted
            )
        }
        missing = sorted(wanted - set(found))
        if missing:
            raise CommandError(
                gettext("Permissions missing: %(codenames)s; run `manage.py migrate` first.")
                % {"codenames": ", ".join(missing)}
            )
        with transaction.atomic():
            for role in ROLES:
                group = Group.objects.filter(name=role.name).first()
                have = set(group.permissions.values_list("codename", flat=True)) if group else set()
                adding = [found[code] for code in role.permissions if code not in have]
                self.stdout.write(self._change(role.name, group is None, adding, dry_run))
                if dry_run:
                    continue
                if group is None:
                    group = Group.objects.create(name=role.name)
                group.permissions.add(*adding)

    @staticmethod
    def _change(name: str, new: bool, adding: list[Permission], dry_run: bool) -> str:
        """What happens (or, in a dry run, would happen) to the group ``name``."""
        values = {
            "group": repr(name),
            "count": len(adding),
            "codenames": ", ".join(p.codename for p in adding),
        }
        if new and dry_run:
            message = ngettext(
                "would create %(group)s with %(count)d permission",
                "would create %(group)s with %(count)d permissions",
                len(adding),
            )
        elif new:
            message = ngettext(
                "create %(group)s with %(count)d permission",
                "create %(group)s with %(count)d permissions",
                len(adding),
            )
        elif adding and dry_run:
            message = gettext("would add to %(group)s: %(codenames)s")
        elif adding:
            message = gettext("add to %(group)s: %(codenames)s")
        else:
            message = gettext("%(group)s is up to date")
        return message % values
