"""Async comprehension in a lambda inside an async function: the lambda is not async."""
from typing import AsyncIterator, Callable


async def build(rows: AsyncIterator[int]) -> Callable[[], list[int]]:
    """Returns a lambda."""
    return lambda: [row async for row in rows]
