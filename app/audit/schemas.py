"""Request and response models of the compliance API."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.audit.actions import ACTIONS
from app.audit.export import ExportFilter, ExportFormat
from app.schemas import ResponseModel, UTCTimestamp

Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class ExportQuery(BaseModel):
    """The query string of an export. Unknown parameters are refused: a misspelt
    filter must not silently turn into an export of everything."""

    model_config = ConfigDict(extra="forbid")

    format: ExportFormat = Field(ExportFormat.ndjson, description="`ndjson` or `csv`.")
    since: UTCTimestamp | None = Field(
        None, description="ISO 8601; events at or after it. Without a zone, UTC."
    )
    until: UTCTimestamp | None = Field(
        None, description="ISO 8601; events strictly before it. Without a zone, UTC."
    )
    actor: str | None = Field(None, max_length=64, description="Username of who acted.")
    action: str | None = Field(None, max_length=64, description="One action of the vocabulary.")
    target_type: str | None = Field(None, max_length=32, description="e.g. `question`.")
    target_id: str | None = Field(None, max_length=64, description="Id of the target.")

    @field_validator("until")
    @classmethod
    def _not_before_since(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        since = info.data.get("since")
        if value is not None and since is not None and value < since:
            raise ValueError("must not be before `since`")
        return value

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is not None and value not in ACTIONS:
            raise ValueError(f"unknown action {value!r}; see docs/audit-actions.md")
        return value

    def criteria(self) -> ExportFilter:
        return ExportFilter(**self.model_dump(exclude={"format"}))


class VerifyQuery(BaseModel):
    """An optional checkpoint to verify against, as returned by `GET /audit/checkpoint`."""

    model_config = ConfigDict(extra="forbid")

    checkpoint_seq: int | None = Field(None, ge=0, le=2**63 - 1)
    checkpoint_hash: Hash | None = Field(None, validate_default=True)

    @field_validator("checkpoint_hash")
    @classmethod
    def _both_or_neither(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (value is None) != (info.data.get("checkpoint_seq") is None):
            raise ValueError("give `checkpoint_seq` and `checkpoint_hash` together")
        return value

    def against(self) -> tuple[int, str] | None:
        if self.checkpoint_seq is None or self.checkpoint_hash is None:
            return None
        return self.checkpoint_seq, self.checkpoint_hash


class VerifyOut(BaseModel):
    ok: bool
    events_checked: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None = Field(description="The first event that fails; null when ok.")
    reason: str | None = Field(description="Why that event fails; null when ok.")


class CheckpointOut(BaseModel):
    seq: int = Field(description="The last event's seq (0 while the trail is empty).")
    hash: str = Field(description="The last event's hash; keep it outside the database.")
    occurred_at: datetime | None = Field(description="When the last event happened.")


class ActorOut(ResponseModel):
    id: int | None
    username: str | None
    roles: list[str]


class EventOut(ResponseModel):
    """One audit event about a record."""

    seq: int
    occurred_at: datetime
    actor: ActorOut
    action: str
    outcome: str
    request_id: str | None
    payload: dict[str, Any]


class VersionOut(ResponseModel):
    """The record's content as it stood after one create or edit."""

    number: int = Field(description="Revision number: 1 is the original.")
    seq: int = Field(description="The audit event that made this version.")
    occurred_at: datetime
    actor: ActorOut
    content: dict[str, Any]
    changed: list[str] = Field(description="Fields that differ from the previous version.")
    matches_stored_revision: bool | None = Field(
        description="Whether the revision table holds the same content and editor "
        "(null when it holds no such revision)."
    )


class RecordOut(ResponseModel):
    target_type: Literal["question", "answer"]
    target_id: int
    deleted: bool = Field(description="Tombstoned: hidden from the product, kept here.")
    versions: list[VersionOut] = Field(description="Oldest first: the original, then each edit.")
    history: list[EventOut] = Field(description="Every audit event about the record, in order.")
