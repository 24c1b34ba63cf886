"""Pagination defaults."""
PAGE_SIZE = 50
MAX_PAGE = 1000L
