"""End-to-end tests that drive a real browser (headless Chromium) against a live server."""
