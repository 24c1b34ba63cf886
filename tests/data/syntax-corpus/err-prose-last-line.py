"""HTTP routes for tasks (full paths, no router prefix)."""
from typing import List, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, status
from sqlalchemy.orm import Session

from src.api.schemas.task import TaskCreate, TaskRead, TaskUpdate
from src.database import get_db
from src.errors import DomainError
from src.services import task as service

router = APIRouter(tags=["tasks"])


@router.get("/tasks", response_model=List[TaskRead])
def list_tasks(
    status_filter: Optional[str] = Query(None, alias="status"),
    owner_id: Optional[int] = Query(None),
    skip: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=200),
    db: Session = Depends(get_db),
) -> List[TaskRead]:
    """List tasks, filtered by status and owner."""
    return list(service.list_tasks(db, status_filter, owner_id, skip, limit))


@router.post("/tasks", response_model=TaskRead, status_code=status.HTTP_201_CREATED)
def create_task(data: TaskCreate, db: Session = Depends(get_db)) -> TaskRead:
    """Create a task."""
    try:
        return service.create_task(db, data)
    except DomainError as exc:
        raise HTTPException(status_code=exc.status_code, detail=exc.message) from exc


@router.get("/tasks/{task_id}", response_model=TaskRead)
def get_task(task_id: int, db: Session = Depends(get_db)) -> TaskRead:
    """Return one task."""
    return service.get_task(db, task_id)


@router.patch("/tasks/{task_id}", response_model=TaskRead)
def update_task(task_id: int, data: TaskUpdate, db=Depends(get_db)) -> TaskRead:
    """Change some fields of a task."""
    return service.update_task(db, task_id, data)


@router.delete("/tasks/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(task_id: int, db: Session = Depends(get_db)) -> None:
    service.delete_task(db, task_id)

This module defines the task routes and delegates to the service layer.
