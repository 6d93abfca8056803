"""URLs for the sandbox: a home page, the admin, and whichever optional parts of the app exist."""

from importlib.util import find_spec

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from django.views.generic import TemplateView


def optional_include(prefix: str, module: str) -> list[URLPattern | URLResolver]:
    """Include `module` at `prefix` if it can be imported, so this file works before it exists."""
    try:
        found = find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        found = False
    return [path(prefix, include(module))] if found else []


dashboard_urls = optional_include("dashboard/", "accounts.dashboard.urls")
api_urls = optional_include("api/", "accounts.api.urls")

home = TemplateView.as_view(
    template_name="home.html",
    extra_context={"has_dashboard": bool(dashboard_urls), "has_api": bool(api_urls)},
)

urlpatterns: list[URLPattern | URLResolver] = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    # Django's set_language view, for the home page's language switcher.
    path("i18n/", include("django.conf.urls.i18n")),
    *dashboard_urls,
    *api_urls,
]
