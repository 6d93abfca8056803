"""The management commands and the system checks."""
