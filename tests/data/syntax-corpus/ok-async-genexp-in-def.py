"""Async generator expressions outside async def (asyncio, contextlib style)."""


def aiter_of(it):
    return (x async for x in it)


def nested(z):
    return ([y async for y in x] async for x in z)


def awaited(coros):
    return (await c for c in coros)
