"""Users, their roles and the topics they are experts of."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Integer, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.topics.models import Topic


class Role(StrEnum):
    rep = "rep"
    expert = "expert"
    compliance = "compliance"
    admin = "admin"


user_expert_topics = Table(
    "user_expert_topics",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(Base):
    __tablename__ = "users"
    # Who the person is at the OpenID provider they sign in with (both None: a local
    # account); one Vouch user per provider identity.
    __table_args__ = (UniqueConstraint("identity_issuer", "identity_subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # Where email notifications go; None: the person gets none by email.
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    reputation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    identity_issuer: Mapped[str | None] = mapped_column(String(255))
    identity_subject: Mapped[str | None] = mapped_column(String(255))

    # Loaded explicitly where needed, so authors shown beside posts cost no extra query.
    expert_topics: Mapped[list[Topic]] = relationship(
        secondary=user_expert_topics, lazy="raise", order_by=Topic.slug
    )

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def is_expert_of(self, topic_id: int) -> bool:
        return Role.expert in self.roles and any(t.id == topic_id for t in self.expert_topics)
