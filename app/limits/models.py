"""The per-user write counter behind the write rate limit."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime


class WriteCounter(Base):
    """How many writes a user made in the current fixed window.

    One row per user who ever wrote, reused window after window (a newer window resets
    the count), so the table never grows with time and needs no pruning.
    """

    __tablename__ = "write_counters"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    writes: Mapped[int] = mapped_column(Integer)
