"""Structural pattern matching (Python 3.10)."""


def describe(event: dict) -> str:
    """Describe an event."""
    match event:
        case {"type": "created", "id": int(ident)}:
            return f"created {ident}"
        case {"type": "deleted", **rest} if rest:
            return "deleted with details"
        case [first, *others]:
            return f"list starting with {first!r} and {len(others)} more"
        case _:
            return "unknown"


match = 1
case = match + 1
