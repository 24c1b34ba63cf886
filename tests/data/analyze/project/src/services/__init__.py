"""Data access and business operations."""
