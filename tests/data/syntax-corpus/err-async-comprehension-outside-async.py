"""Batch reader."""
from typing import AsyncIterator


def collect(rows: AsyncIterator[int]) -> list[int]:
    """Not async, so an asynchronous comprehension is refused."""
    return [row * 2 async for row in rows]
