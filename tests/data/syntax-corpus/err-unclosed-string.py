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
    """Return one user."""
    try:
        return service.get_user(db, user_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404, detail=exc.message) from exc


@router.patch("/{user_id}", response_model=UserRead)
def update_user(user_id: int, data: UserUpdate, db: Session = Depends(get_db)) -> UserRead:
    """Change some fields of a user."""
    return service.update_user(db, user_id, data)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: int, db: Session = Depends(get_db)) -> None:
    """Delete a user."""
    if user_id <= 0:
        raise HTTPException(status_code=400, detail="invalid id)
    service.delete_user(db, user_id)
