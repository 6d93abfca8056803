"""The API's models in the admin: keys and the lookup throttle, with the admin classes the
API defines next to its rules (``accounts.api.admin``)."""

from __future__ import annotations

from django.contrib import admin

from ..api.admin import ApiKeyAdmin, LookupThrottleAdmin
from ..models import ApiKey, LookupThrottle

admin.site.register(LookupThrottle, LookupThrottleAdmin)
admin.site.register(ApiKey, ApiKeyAdmin)
