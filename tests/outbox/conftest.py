"""The outbox tests' webhook: a local server, with the settings pointing at it."""

from __future__ import annotations

import pytest

from .webhook import serve

SECRET = "test-webhook-secret"


@pytest.fixture
def webhook(settings):
    server, hook = serve()
    settings.ACCOUNTS_OUTBOX_WEBHOOK_URL = hook.url
    settings.ACCOUNTS_OUTBOX_SECRET = SECRET
    yield hook
    server.shutdown()
    server.server_close()
