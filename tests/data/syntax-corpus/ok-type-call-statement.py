"""`type(...)` at the start of a statement is a call (unittest/mock.py, enum.py)."""


def _check_sig(mock, checksig):
    type(mock)._mock_check_sig = checksig
    type(mock).__signature__ = None


class Registry:
    def register(self, key, value):
        type(self).registry[key] = value
        type = 3
        return type
