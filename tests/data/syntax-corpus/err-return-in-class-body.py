"""Request and response schemas for tasks."""
from datetime import date, datetime
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["todo", "in_progress", "done"]


class TaskBase(BaseModel):
    """Fields shared by every task schema."""

    title: str = Field(min_length=3, max_length=200)
    description: Optional[str] = None
    status: Status = "todo"
    priority: int = Field(default=3, ge=1, le=5)
    due_date: Optional[date] = None


class TaskCreate(TaskBase):
    """Body of POST /tasks."""

    owner_id: int
    return owner_id


class TaskUpdate(BaseModel):
    """Body of PATCH /tasks/{id}."""

    title: Optional[str] = Field(default=None, min_length=3, max_length=200)
    description: Optional[str] = None
    status: Optional[Status] = None
    priority: Optional[int] = Field(default=None, ge=1, le=5)
    due_date: Optional[date] = None


class TaskRead(TaskBase):
    """A task as returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    created_at: datetime
    updated_at: datetime
