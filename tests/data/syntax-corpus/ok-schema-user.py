"""Request and response schemas for users."""
from datetime import datetime
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator


class UserBase(BaseModel):
    """Fields shared by every user schema."""

    email: EmailStr
    full_name: str = Field(min_length=1, max_length=120)
    age: Optional[int] = Field(default=None, ge=13, le=130)
    is_active: bool = True
    role: Literal["admin", "member"] = "member"


class UserCreate(UserBase):
    """Body of POST /users."""

    @field_validator("full_name")
    @classmethod
    def strip_name(cls, value: str) -> str:
        """Trim surrounding blanks from the name."""
        return value.strip()


class UserUpdate(BaseModel):
    """Body of PATCH /users/{id}: every field optional."""

    email: Optional[EmailStr] = None
    full_name: Optional[str] = Field(default=None, min_length=1, max_length=120)
    age: Optional[int] = Field(default=None, ge=13, le=130)
    is_active: Optional[bool] = None
    role: Optional[Literal["admin", "member"]] = None


class UserRead(UserBase):
    """A user as returned by the API."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    updated_at: datetime
