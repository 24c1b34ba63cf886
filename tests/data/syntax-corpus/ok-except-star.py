"""Exception groups (Python 3.11)."""


def handle() -> None:
    """Split an exception group."""
    try:
        raise ExceptionGroup("many", [ValueError("a"), TypeError("b")])
    except* ValueError as eg:
        print(eg.exceptions)
    except* TypeError:
        pass
    finally:
        print("done")
