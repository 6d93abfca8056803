"""Admin for the API's lookup throttle: see who is cooling off or blocked, and lift it.

Registered by ``accounts/admin.py`` (the one module that registers models), with
``admin.site.register(LookupThrottle, LookupThrottleAdmin)``. Rows are written only by the
API; staff can only read them, delete them, or lift them with the action below.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..models import LookupThrottle
from . import throttle


class LookupThrottleAdmin(admin.ModelAdmin):
    list_display = [
        "client",
        "total_failures",
        "window_failures",
        "last_failure_at",
        "cooled_off_until",
        "blocked_at",
    ]
    list_filter = [("blocked_at", admin.EmptyFieldListFilter)]
    search_fields = ["client"]
    readonly_fields = [
        "client",
        "window_started_at",
        "window_failures",
        "total_failures",
        "last_failure_at",
        "cooled_off_until",
        "blocked_at",
    ]
    actions = ["lift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewing is allowed through the view permission; edits go through the action only.
        return False

    def has_lift_permission(self, request: HttpRequest) -> bool:
        """Lifting needs the model's change permission, though the form itself is read-only."""
        return bool(request.user.has_perm("accounts.change_lookupthrottle"))

    @admin.action(description=_("Lift the block and cooling-off period"), permissions=["lift"])
    def lift(self, request: HttpRequest, queryset: QuerySet[LookupThrottle]) -> None:
        count = throttle.lift(queryset)
        self.message_user(
            request,
            ngettext("Lifted %(count)d client.", "Lifted %(count)d clients.", count)
            % {"count": count},
            messages.SUCCESS,
        )
