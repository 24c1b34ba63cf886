"""Rules for users: unique e-mail addresses."""
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.errors import ConflictError
from src.models.user import User


def check_email_unique(db: Session, email: str, user_id: Optional[int] = None) -> None:
    """Refuse an e-mail address another user already has."""
    query = select(User.id).where(User.email == email)
    if user_id is not None:
        query = query.where(User.id != user_id)
    if db.execute(query).first() is not None:
        raise ConflictError("email already registered", field="email")
