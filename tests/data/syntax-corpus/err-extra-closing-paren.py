"""Operations on users."""
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from src.api.schemas.user import UserCreate, UserUpdate
from src.errors import ConflictError, NotFoundError
from src.models.user import User
from src.validations.user import check_email_unique


def list_users(db: Session, skip: int = 0, limit: int = 50) -> Sequence[User]:
    """Return one page of users ordered by id."""
    return db.scalars(select(User).order_by(User.id).offset(skip).limit(limit)).all()


def get_user(db: Session, user_id: int) -> User:
    """Return a user or raise NotFoundError."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFoundError(f"user {user_id} not found")
    return user


def create_user(db: Session, data: UserCreate) -> User:
    """Insert a user after checking the rules."""
    check_email_unique(db, data.email)
    user = User(**data.model_dump())
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise ConflictError("email already registered", field="email") from exc
    db.refresh(user))
    return user


def update_user(db: Session, user_id: int, data: UserUpdate) -> User:
    """Apply a partial update."""
    user = get_user(db, user_id)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        check_email_unique(db, changes["email"], user_id)
    for key, value in changes.items():
        setattr(user, key, value)
    db.commit()
    db.refresh(user)
    return user


def delete_user(db: Session, user_id: int) -> None:
    """Delete a user and their tasks."""
    db.delete(get_user(db, user_id))
    db.commit()


def find_by_email(db: Session, email: str) -> Optional[User]:
    return db.scalars(select(User).where(User.email == email)).first()
