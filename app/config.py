"""Settings read from `VOUCH_` environment variables and an optional `.env` file."""

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-in-production"


class GroupGrant(BaseModel):
    """What membership of one of the identity provider's groups gives (`OIDC_ROLE_MAP`)."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Literal["rep", "expert", "compliance", "admin"]] = []
    topics: list[str] = Field(default=[], description="Expert topics, by slug.")


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
    # The address people use: links in emails (threads, one-click unsubscribe) start here.
    public_url: str = "http://127.0.0.1:8000"
    # Email: off without an SMTP host (the local set-up); STARTTLS and login when set.
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "Vouch <vouch@localhost>"
    # Deliveries (emails, webhook calls): retried with exponential backoff from
    # `delivery_backoff_seconds` up to the maximum, dead letters after `max_attempts`.
    delivery_batch_size: int = Field(default=50, ge=1, le=1000)
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_backoff_seconds: float = Field(default=30.0, gt=0)
    delivery_max_backoff_seconds: float = Field(default=3600.0, gt=0)
    delivery_lease_seconds: float = Field(default=300.0, gt=0)
    # Daily summaries leave at this hour (UTC); the weekly digest on this weekday
    # (0 Monday) at the same hour.
    summary_hour_utc: int = Field(default=7, ge=0, le=23)
    digest_weekday: int = Field(default=0, ge=0, le=6)
    # Webhooks: private-network and loopback targets are refused unless allowed here.
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    secret_key: str = DEFAULT_SECRET
    token_ttl_minutes: int = Field(default=12 * 60, ge=1, le=60 * 24 * 30)
    log_level: str = "INFO"
    # The folder of pg_dump and pg_restore (`vouch backup`, `vouch restore`); found with
    # `pg_config --bindir` when empty.
    pg_bindir: str = ""
    # Log lines: `json` (one object a line: what log collectors parse), `text` (for a
    # person at a terminal), or `auto`: text when standard error is a terminal, JSON
    # otherwise (a container, a service manager, a file). See docs/operations.md.
    log_format: Literal["auto", "json", "text"] = "auto"
    # The bearer token a Prometheus scraper sends to GET /metrics. Empty: /metrics answers
    # 404, as if it did not exist (see docs/operations.md, "Metrics").
    metrics_token: SecretStr = SecretStr("")
    # `vouch worker`'s own GET /metrics (its search and delivery counters), on this port
    # and address, under the same token; 0 (the default): not served.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "127.0.0.1"

    wrong_answer_threshold: int = Field(default=2, ge=1)
    topic_window_days: int = Field(default=30, ge=1)
    topic_wrong_rate: float = Field(default=0.4, gt=0, le=1)
    topic_min_reviewed: int = Field(default=5, ge=1)

    login_attempts_per_minute: int = Field(default=10, ge=1)
    # argon2id cost of new password hashes (RFC 9106's second recommended option).
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    # Abuse limits (docs/security.md, "Abuse limits"). Writes (POST, PUT, PATCH, DELETE)
    # of one signed-in user, counted in the database so every API process shares the
    # count; 0 turns the limit off. Fixed windows of `write_rate_window_seconds`: a minute,
    # shortened only where a test must see a window end.
    write_rate_per_minute: int = Field(default=120, ge=0)
    write_rate_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # Request bodies (JSON and forms alike) and the URL (path and query string).
    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    max_url_bytes: int = Field(default=4096, ge=256)
    # `vouch serve`: the request head (request line and headers) may hold at most this
    # many bytes and headers (431 past them), and must arrive within
    # `header_timeout_seconds` of the connection opening or of the previous response;
    # a body must arrive within `body_timeout_seconds` of its head (408). An idle
    # keep-alive connection closes after `keep_alive_seconds`.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_headers: int = Field(default=100, ge=10)
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    # Connections and requests at once per process before new requests get 503; and how
    # long a stopping server lets requests in flight finish.
    max_concurrency: int = Field(default=1000, ge=1)
    graceful_shutdown_seconds: int = Field(default=25, ge=1)
    cors_origins: list[str] = []

    # Single sign-on with OpenID Connect (docs/single-sign-on.md): off while the issuer is
    # empty. The provider is found from `<issuer>/.well-known/openid-configuration`.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_scopes: str = "openid profile email groups"
    # The ID token claim that lists the person's groups, and what each group gives; a
    # person in no mapped group is a rep.
    oidc_groups_claim: str = "groups"
    oidc_role_map: dict[str, GroupGrant] = {}
    # Shown on the sign-in page: "Sign in with <name>".
    oidc_provider_name: str = "single sign-on"
    oidc_timeout_seconds: float = Field(default=5.0, gt=0)
    # Passwords (the sign-in form and POST /auth/token): off leaves only single sign-on,
    # and the password of the one break-glass admin named here, for when the provider
    # is down.
    local_login: bool = True
    break_glass_admin: str = ""

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("VOUCH_SECRET_KEY must be set to a private value in production")
        return self

    @model_validator(mode="after")
    def _single_sign_on_needs_a_client(self) -> "Settings":
        if self.oidc_issuer and not self.oidc_client_id:
            raise ValueError("VOUCH_OIDC_CLIENT_ID must be set with VOUCH_OIDC_ISSUER")
        if not self.local_login and not self.oidc_issuer and not self.break_glass_admin:
            raise ValueError(
                "VOUCH_LOCAL_LOGIN=false needs VOUCH_OIDC_ISSUER or VOUCH_BREAK_GLASS_ADMIN: "
                "nobody could sign in"
            )
        return self

    @property
    def sso_on(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def email_on(self) -> bool:
        return bool(self.smtp_host)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
