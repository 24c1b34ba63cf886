"""Service helpers."""
from typing import Any


def update_user(user_id: int, **changes: Any, notify: bool = False) -> dict[str, Any]:
    """Applies the changes."""
    return {"id": user_id, "notify": notify, **changes}
