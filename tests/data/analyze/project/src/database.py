"""Database engine, session factory, declarative base and the get_db dependency."""
from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from src.config import settings

connect_args = {"check_same_thread": False} if settings.database_url.startswith("sqlite") else {}
engine = create_engine(settings.database_url, connect_args=connect_args, future=True)
SessionLocal = sessionmaker(bind=engine, autoflush=False, expire_on_commit=False)


class Base(DeclarativeBase):
    """Base class of every ORM model."""


def get_db() -> Iterator[Session]:
    """Yield a session for one request and close it afterwards."""
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()
