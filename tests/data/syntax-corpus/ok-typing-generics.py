"""Type hints of many shapes."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Generic, Optional, TypeVar, Union

T = TypeVar("T")


class Box(Generic[T]):
    """A box of one value."""

    def __init__(self, value: T) -> None:
        """Store the value."""
        self.value = value

    def map(self, fn: Callable[[T], T]) -> Box[T]:
        """Apply fn."""
        return Box(fn(self.value))


def pick(a: int | None, b: Optional[str] = None, *rest: Union[int, str],
         flag: bool = False, **extra: Mapping[str, Annotated[int, "meta"]]) -> tuple[int, ...]:
    """A signature with every kind of parameter."""
    return (a or 0,)


def pos_only(a: int, b: int, /, c: int, *, d: int) -> int:
    """Positional-only and keyword-only parameters."""
    return a + b + c + d
