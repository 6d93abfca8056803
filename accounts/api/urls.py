"""URLs of the card JSON API; mount with ``path("api/", include("accounts.api.urls"))``.

Every path is versioned (``v1/``). The operations are django-ninja's (:mod:`accounts.api.views`),
each wrapped so that a wrong method answers 405 in the API's JSON format; paths under the mount
point that match nothing answer a JSON 404, so a client never has to parse an HTML error page.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path, re_path

try:
    from . import views
except ModuleNotFoundError as missing:  # pragma: no cover - depends on the installation
    if missing.name not in {"ninja", "pydantic", "pydantic_core"}:
        raise
    raise ImportError(
        'The JSON API needs django-ninja: pip install "django-managed-accounts[api]".'
    ) from missing

from .http import json_method_not_allowed, not_found

app_name = "accounts_api"


def _operations() -> list[URLPattern]:
    """ninja's URL patterns of the operations, answering a wrong method in JSON.

    ninja also adds an empty "api-root" path that raises an HTML 404; the catch-all below
    answers it instead.
    """
    patterns: list[URLPattern] = []
    for pattern in views.api.urls[0]:
        if not isinstance(pattern, URLPattern) or pattern.name == "api-root":
            continue
        patterns.append(
            path(str(pattern.pattern), json_method_not_allowed(pattern.callback), name=pattern.name)
        )
    return patterns


urlpatterns: list[URLPattern | URLResolver] = [
    path(views.OPENAPI_PATH, views.openapi_document, name="openapi"),
    *_operations(),
    re_path(r"^(?P<path>.*)$", not_found, name="not-found"),
]
