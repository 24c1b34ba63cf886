"""Async constructs in the places CPython allows them."""
import asyncio
from typing import AsyncIterator


async def numbers(n: int) -> AsyncIterator[int]:
    """Yield 0..n-1 asynchronously."""
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def collect(n: int) -> list[int]:
    """Gather the numbers with an async comprehension."""
    async with asyncio.timeout(5):
        values = [i async for i in numbers(n)]
    async for extra in numbers(1):
        values.append(extra)
    return values


def run() -> list[int]:
    """Entry point."""
    return asyncio.run(collect(3))
