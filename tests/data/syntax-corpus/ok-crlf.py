"""Windows line endings."""
import os


def home() -> str:
    """Home directory."""
    return os.path.expanduser("~")
