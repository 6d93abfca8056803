"""The demo app's configuration."""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    # ``manage.py`` puts ``sandbox/`` on the path, so the sandbox installs this app as "demo";
    # the test suite imports it from the repository root as "sandbox.demo". Either works.
    name = __name__.rpartition(".")[0]
    label = "demo"
    verbose_name = "Sandbox demo data"
