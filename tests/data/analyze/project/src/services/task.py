"""Operations on tasks."""
from typing import Optional, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from src.api.schemas.task import TaskCreate, TaskUpdate
from src.errors import NotFoundError
from src.models.task import Task
from src.validations.task import check_due_date, check_owner_exists, check_transition


def list_tasks(
    db: Session,
    status: Optional[str] = None,
    owner_id: Optional[int] = None,
    skip: int = 0,
    limit: int = 50,
) -> Sequence[Task]:
    """Return one page of tasks, filtered by status and owner."""
    query = select(Task).order_by(Task.id)
    if status is not None:
        query = query.where(Task.status == status)
    if owner_id is not None:
        query = query.where(Task.owner_id == owner_id)
    return db.scalars(query.offset(skip).limit(limit)).all()


def get_task(db: Session, task_id: int) -> Task:
    """Return a task or raise NotFoundError."""
    task = db.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"task {task_id} not found")
    return task


def create_task(db: Session, data: TaskCreate) -> Task:
    """Insert a task after checking the rules."""
    check_owner_exists(db, data.owner_id)
    check_due_date(data.due_date)
    task = Task(**data.model_dump())
    db.add(task)
    db.commit()
    db.refresh(task)
    return task


def update_task(db: Session, task_id: int, data: TaskUpdate) -> Task:
    """Apply a partial update, enforcing the workflow."""
    task = get_task(db, task_id)
    changes = data.model_dump(exclude_unset=True)
    if "status" in changes:
        check_transition(task.status.value, changes["status"])
    if "due_date" in changes:
        check_due_date(changes["due_date"])
    for key, value in changes.items():
        setattr(task, key, value)
    db.commit()
    db.refresh(task)
    return task


def delete_task(db: Session, task_id: int) -> None:
    """Delete a task."""
    db.delete(get_task(db, task_id))
    db.commit()
