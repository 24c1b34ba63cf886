"""HTTP routes for users."""
from typing import List

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from src.api.schemas.user import UserCreate, UserRead, UserUpdate
from src.database import get_db
from src.errors import NotFoundError
from src.services import user as service

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", response_model=List[UserRead])
def list_users(
    skip: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=200),
    db: Session = Depends(get_db),
) -> List[UserRead]:
    """List users, one page at a time."""
    return list(service.list_users(db, skip=skip, limit=limit))


@router.post("", response_model=UserRead, status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, db: Session = Depends(get_db)) -> UserRead:
    """Create a user."""
    return service.create_user(db, data)


@router.get("/{user_id}", response_model=UserRead)
def get_user(user_id: int, db: Session = Depends(get_db)) -> UserRead:
