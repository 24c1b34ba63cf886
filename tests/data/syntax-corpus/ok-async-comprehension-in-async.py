"""Async comprehensions and async for inside async def are fine."""
from typing import AsyncIterator


async def collect(rows: AsyncIterator[int]) -> list[int]:
    """Collects."""
    out = [row async for row in rows]
    async for row in rows:
        out.append(row)
    return out


def params(a: int, *args: int, b: int = 1, **kwargs: int) -> int:
    """Keyword-only after *args, **kwargs last."""
    return a + b + 1_000 + 0x1F + 1e3
