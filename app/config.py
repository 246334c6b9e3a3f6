"""Settings read from `VOUCH_` environment variables and an optional `.env` file."""

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"


class Settings(BaseSettings):
    """Every tunable of the service; one instance per process (see `get_settings`)."""

    model_config = SettingsConfigDict(env_prefix="VOUCH_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/vouch.db"
    meili_url: str = "http://127.0.0.1:7700"
    meili_key: str = ""
    # The uid of the threads index; tests give each test its own.
    meili_index: str = Field(default="threads", pattern=r"^[A-Za-z0-9_-]{1,200}$")
    meili_timeout_seconds: float = Field(default=5.0, gt=0)
    # Drain the search outbox in a thread of the API process (the local set-up); turn it off
    # where `vouch worker` runs separately.
    search_worker_in_process: bool = True
    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_seconds: float = Field(default=0.05, gt=0)
    # A claimed row whose worker has not finished within this long is claimed again.
    outbox_lease_seconds: float = Field(default=60.0, gt=0)
    outbox_max_backoff_seconds: float = Field(default=30.0, gt=0)
    # The notification fan-out: inside the API process (the local set-up), or only in
    # `vouch worker`; pieces of news per transaction.
    notification_worker_in_process: bool = True
    notification_batch_size: int = Field(default=200, ge=1, le=10_000)
    secret_key: str = DEFAULT_SECRET
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=60 * 24 * 30)
    log_level: str = "INFO"

    wrong_answer_threshold: int = Field(default=2, ge=1)
    topic_window_days: int = Field(default=30, ge=1)
    topic_wrong_rate: float = Field(default=0.4, gt=0, le=1)
    topic_min_reviewed: int = Field(default=5, ge=1)

    login_attempts_per_minute: int = Field(default=10, ge=1)
    # argon2id cost of new password hashes (RFC 9106's second recommended option).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    cors_origins: list[str] = []

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("VOUCH_SECRET_KEY must be set to a private value in production")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
