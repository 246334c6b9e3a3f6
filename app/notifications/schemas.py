from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from app.notifications.models import Channel, Frequency, NotificationKind
from app.schemas import MAX_ID, RequestModel, ResponseModel


class NotificationOut(ResponseModel):
    id: int
    kind: str = Field(description="What happened: `question.new`, `answer.reviewed`, …")
    topic: str
    question_id: int | None = Field(description="The thread; null for news about a topic.")
    question_title: str | None
    answer_id: int | None
    actor: str | None = Field(description="Who caused it (display name), when someone did.")
    detail: dict[str, Any] = Field(
        description="What the news says beside its thread: a verdict with its rationale "
        "and correction, a flag's reason, a signal's counts."
    )
    link: str = Field(description="Where it is in the web interface.")
    created_at: datetime
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description="How many of the user's notifications are unread.")


class MarkRead(RequestModel):
    """Either `ids` (the user's own notifications; others' are ignored) or `all`."""

    ids: list[int] | None = Field(default=None, min_length=1, max_length=100)
    all: bool = False

    @model_validator(mode="after")
    def one_of(self) -> "MarkRead":
        if (self.ids is None) == (not self.all):
            raise ValueError("give either ids or all: true")
        if self.ids is not None and any(not 1 <= i <= MAX_ID for i in self.ids):
            raise ValueError(f"ids are between 1 and {MAX_ID}")
        return self


class MarkedRead(BaseModel):
    marked: int = Field(description="How many of them were unread.")
    unread: int


class SettingOut(BaseModel):
    kind: NotificationKind
    label: str
    channel: Channel
    frequency: Frequency
    default: bool = Field(description="True while the user has not chosen: the default applies.")
    choices: list[Frequency]


class SettingsOut(BaseModel):
    settings: list[SettingOut]


class SettingIn(RequestModel):
    kind: NotificationKind
    channel: Channel
    frequency: Frequency


class SettingsUpdate(RequestModel):
    """The choices to change; the others stay as they are."""

    settings: list[SettingIn] = Field(min_length=1, max_length=50)
