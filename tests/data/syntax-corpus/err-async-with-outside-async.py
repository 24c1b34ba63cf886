"""Lock use."""
import asyncio

lock = asyncio.Lock()


def critical() -> None:
    """Not async, so async with is refused."""
    async with lock:
        pass
