"""The gift-card JSON API: plain Django views over :mod:`accounts.facade`.

Optional: a project mounts it with one line, ``path("api/", include("accounts.api.urls"))``.
It adds no dependency and no installed app; its one table (the lookup throttle) belongs to the
``accounts`` app. See ``docs/api_http.rst``.
"""
