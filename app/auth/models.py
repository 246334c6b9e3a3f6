"""Bearer tokens (stored only as a keyed hash) and login attempts for rate limiting."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.users.models import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A personal access token's name, given by its holder for a script; None: the token
    # of a sign-in (password or single sign-on).
    name: Mapped[str | None] = mapped_column(String(100))

    user: Mapped[User] = relationship(lazy="joined")


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "attempted_at"),
        Index("ix_login_attempts_client_ip_at", "client_ip", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    succeeded: Mapped[bool]


class OidcSignIn(Base):
    """A completed single sign-on: digests of its `state` and `nonce`, each unique, so a
    replayed callback or ID token is refused."""

    __tablename__ = "oidc_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_digest: Mapped[str] = mapped_column(String(64), unique=True)
    nonce_digest: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
