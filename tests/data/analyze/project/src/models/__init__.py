"""ORM models."""
from src.models.task import Task, TaskStatus  # noqa: F401
from src.models.user import User, UserRole  # noqa: F401

__all__ = ["Task", "TaskStatus", "User", "UserRole"]
