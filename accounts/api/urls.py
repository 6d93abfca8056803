"""URLs of the gift-card JSON API; mount with ``path("api/", include("accounts.api.urls"))``.

Every path is versioned (``v1/``). Paths under the mount point that match nothing answer a JSON
404, so a client never has to parse an HTML error page.
"""

from django.urls import URLPattern, path, re_path

from . import schema, views

app_name = "accounts_api"

urlpatterns: list[URLPattern] = [
    path(schema.OPENAPI_PATH, views.openapi, name="openapi"),
    path("v1/accounts/", views.create_account, name="accounts"),
    path("v1/accounts/lookup/", views.lookup_account, name="account-lookup"),
    path("v1/redemptions/", views.redeem, name="redemptions"),
    path("v1/transfers/<str:reference>/", views.transfer_detail, name="transfer"),
    path("v1/transfers/<str:reference>/refunds/", views.refund, name="transfer-refunds"),
    path("v1/transfers/<str:reference>/reverse/", views.reverse, name="transfer-reverse"),
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]
