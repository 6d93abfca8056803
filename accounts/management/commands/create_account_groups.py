"""Create (or bring up to date) a Django group per role: till, staff and supervisor."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.roles import ROLES


class Command(BaseCommand):
    help = (
        "Create a group for each role around the ledger (till, staff, supervisor) holding the "
        "permissions that role needs. Safe to run again: existing groups get missing permissions "
        "added; nothing is ever removed from a group."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would change, change nothing."
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
                f"Permissions missing: {', '.join(missing)}; run `manage.py migrate` first."
            )
        with transaction.atomic():
            for role in ROLES:
                group = Group.objects.filter(name=role.name).first()
                have = set(group.permissions.values_list("codename", flat=True)) if group else set()
                adding = [found[code] for code in role.permissions if code not in have]
                verb = "would " if dry_run else ""
                if group is None:
                    self.stdout.write(f"{verb}create {role.name!r} with {len(adding)} permissions")
                elif adding:
                    names = ", ".join(p.codename for p in adding)
                    self.stdout.write(f"{verb}add to {role.name!r}: {names}")
                else:
                    self.stdout.write(f"{role.name!r} is up to date")
                if dry_run:
                    continue
                if group is None:
                    group = Group.objects.create(name=role.name)
                group.permissions.add(*adding)
