"""Settings."""

GREETING = "café"  # Latin-1 bytes, no coding declaration
