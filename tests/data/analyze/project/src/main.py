"""The FastAPI application: routers, error handlers and a health check."""
from fastapi import FastAPI

from src.api.routes import tasks, users
from src.config import settings
from src.database import Base, engine
from src.errors import install_handlers

app = FastAPI(title="Task Manager API", debug=settings.debug)
install_handlers(app)
app.include_router(users.router, prefix=settings.api_prefix)
app.include_router(tasks.router, prefix=settings.api_prefix)


@app.on_event("startup")
def create_tables() -> None:
    """Create missing tables (migrations handle changes)."""
    Base.metadata.create_all(bind=engine)


@app.get("/health")
async def health() -> dict[str, str]:
    """Liveness probe."""
    return {"status": "ok"}
