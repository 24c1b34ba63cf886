"""Backslash continuations inside argument and parameter lists (traceback.py, test_shutil)."""
from unittest import mock

_sentinel = object()


def print_exception(exc, /, value=_sentinel, tb=_sentinel, limit=None, \
                    file=None, chain=True):
    return exc, value, tb, limit, file, chain


class T:
    dir = "/tmp"

    def test(self):
        with mock.patch("tempfile.mkdtemp", return_value=self.dir, \
                        autospec=True):
            pass
        return mock.call(1, 2, \
                         key=3)
