"""Settings read from environment variables, with defaults for local development."""
from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str) -> str:
    """Return an environment variable, or the default when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value else default


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of the service."""

    api_prefix: str = "/api"
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite:///./app.db"))
    debug: bool = False
    page_size: int = 50


def get_settings() -> Settings:
    """Build the settings for this process."""
    return Settings(debug=_env("DEBUG", "0") == "1", page_size=int(_env("PAGE_SIZE", "50")))


settings = get_settings()
# café in latin-1
