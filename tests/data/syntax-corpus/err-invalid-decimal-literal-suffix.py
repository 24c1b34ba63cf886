"""Timeouts."""
TIMEOUT_S = 30s
