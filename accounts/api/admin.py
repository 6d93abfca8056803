"""Admin for the API's own tables: the lookup throttle and the API keys.

Registered by ``accounts/admin/access.py`` (the admin package registers every model), with
``admin.site.register(LookupThrottle, LookupThrottleAdmin)`` and
``admin.site.register(ApiKey, ApiKeyAdmin)``.

* Throttle rows are written only by the API; staff can only read them, delete them, or lift
  them with an action.
* Adding an API key shows its secret once, in a message; only its hash is stored and never
  shown. Keys are revoked with an action (revoking is immediate); their user never changes.

Imports no web framework beyond Django: the admin works without the API's extra installed.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..models import ApiKey, LookupThrottle
from . import keys, throttle


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


class ApiKeyForm(forms.ModelForm):
    """The fields staff choose; the secret, its prefix and hash are made on saving."""

    class Meta:
        model = ApiKey
        fields = ["user", "name", "expires_at"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        try:
            keys.check_name(name)
        except keys.InvalidKeyRequest as refusal:
            raise ValidationError(str(refusal)) from None
        return name

    def clean_expires_at(self) -> Any:
        expires_at = self.cleaned_data["expires_at"]
        if self.instance._state.adding or expires_at != self.instance.expires_at:
            try:
                keys.check_expiry(expires_at)
            except keys.InvalidKeyRequest as refusal:
                raise ValidationError(str(refusal)) from None
        return expires_at


class ApiKeyAdmin(admin.ModelAdmin):
    """API keys: add one (its secret is shown once, in a message), see when each was last used,
    revoke. The stored hash is never shown; a key's user cannot change once it is made.
    """

    form = ApiKeyForm
    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return ["user", "name", "expires_at"]
        return ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        if obj is None:
            return []
        return ["user", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        secret = keys.issue(obj)  # the form has checked the name and expiry
        self.message_user(
            request,
            format_html(
                gettext(
                    "The key for “{}” is <code>{}</code>. Copy it now into the till's settings: "
                    "it is stored only as a hash and will not be shown again."
                ),
                obj.name,
                secret,
            ),
            messages.WARNING,
        )

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking needs the model's change permission."""
        return bool(request.user.has_perm("accounts.change_apikey"))

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = keys.revoke(queryset)
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", count) % {"count": count},
            messages.SUCCESS,
        )
