from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class ImportedRecord(Base):
    """One row of a dump that is now in Vouch: its site, its kind, its id there and here.

    A second import of the same dump finds every row here and adds nothing; an import
    that stopped half-way finds the rows of the batches it committed.
    """

    __tablename__ = "import_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # user, question, answer, comment
    # The dump's id (or, for a deleted author known only by name, "name:<display name>").
    source_id: Mapped[str] = mapped_column(String(200))
    target_id: Mapped[int] = mapped_column(Integer)
    # A question's accepted answer, by its id in the dump.
    accepted_source_id: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("site", "kind", "source_id"),)
