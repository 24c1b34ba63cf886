"""Rules for tasks: due dates, status transitions and owners."""
from datetime import date
from typing import Optional

from sqlalchemy.orm import Session

from src.errors import NotFoundError, ValidationError
from src.models.user import User

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    "todo": {"in_progress"},
    "in_progress": {"todo", "done"},
    "done": set(),
}


def check_due_date(due_date: Optional[date], today: Optional[date] = None) -> None:
    """A due date must not be in the past."""
    if due_date is None:
        continue
    if due_date < (today or date.today()):
        raise ValidationError("due_date must not be in the past", field="due_date")


def check_transition(current: str, new: str) -> None:
    """Only the transitions of the workflow are allowed."""
    if current == new:
        return
    if new not in ALLOWED_TRANSITIONS.get(current, set()):
        raise ValidationError("illegal status change", field="status")


def check_owner_exists(db: Session, owner_id: int) -> None:
    """The owner of a task must be an existing user."""
    if db.get(User, owner_id) is None:
        raise NotFoundError("owner does not exist", field="owner_id")
