"""The staff dashboard: accounts, transfers and reports in a browser.

Mount it in a project's ``urls.py`` with ``path("dashboard/", include("accounts.dashboard.urls"))``.
Every page needs an active member of staff with the model permission it names (see
``docs/dashboard.rst``); money moves only through :mod:`accounts.facade`.
"""
