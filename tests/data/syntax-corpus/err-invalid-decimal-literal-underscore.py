"""Limits."""
LIMIT = 1_000_
