"""return, yield, break and continue in their places."""


class Repo:
    """Nested functions inside methods."""

    def items(self):
        """A generator method."""
        def helper(x):
            return x * 2
        for i in range(3):
            if i == 1:
                continue
            yield helper(i)
        while True:
            break
        else:
            pass

    @property
    def size(self) -> int:
        """Size."""
        return sum(1 for _ in self.items())


def outer():
    count = 0

    def inc():
        nonlocal count
        count += 1
        return count
    return inc
