"""Business rules checked before writes."""
