"""The surfaces: the JSON API, the dashboard, the admin and the languages they speak."""
