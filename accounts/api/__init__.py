"""The card JSON API, on django-ninja, over :mod:`accounts.facade`.

Optional: install the ``api`` extra (``pip install "django-managed-accounts[api]"``) and mount it
with one line, ``path("api/", include("accounts.api.urls"))``. It adds no installed app; its
tables (the lookup throttle, the API keys) belong to the ``accounts`` app. Only the modules that
serve requests import django-ninja: the admin, the keys and the throttle work without it. See
``docs/api_http.rst``.
"""
