"""Decorators with arguments, lambdas with defaults."""
import functools
from typing import Callable


def retry(times: int = 3) -> Callable:
    """Retry a function a few times."""
    def wrap(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for _ in range(times):
                try:
                    return fn(*args, **kwargs)
                except ValueError:
                    continue
            raise RuntimeError("gave up")
        return inner
    return wrap


key = lambda item, default=0: item.get("k", default)
pairs = sorted([(2, "b"), (1, "a")], key=lambda p: (p[0], p[1]))
