"""Event relay."""
from typing import AsyncIterator


def drain(events: AsyncIterator[str]) -> list[str]:
    """Not async, so async for is refused."""
    seen: list[str] = []
    async for event in events:
        seen.append(event)
    return seen
