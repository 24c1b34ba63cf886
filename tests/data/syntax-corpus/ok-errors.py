"""Domain exceptions and the FastAPI handlers that turn them into responses."""
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


class DomainError(Exception):
    """Base class of errors the API reports to clients."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        """Keep the message and the offending field, if any."""
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    """A referenced row does not exist."""

    status_code = 404


class ConflictError(DomainError):
    """The request conflicts with existing data (a duplicate, say)."""

    status_code = 409


class ValidationError(DomainError):
    """A business rule rejected the request."""

    status_code = 422


async def domain_error_handler(request: Request, exc: DomainError) -> JSONResponse:
    """Render a DomainError as JSON with its status code."""
    body = {"detail": exc.message}
    if exc.field:
        body["field"] = exc.field
    return JSONResponse(status_code=exc.status_code, content=body)


def install_handlers(app: FastAPI) -> None:
    """Register the handlers on the application."""
    app.add_exception_handler(DomainError, domain_error_handler)
