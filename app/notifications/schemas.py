from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, StrictBool, model_validator

from app.notifications.models import Channel, DeliveryStatus, Frequency, NotificationKind
from app.notifications.webhooks import Format
from app.schemas import MAX_ID, RequestModel, ResponseModel, Slug


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
    all: StrictBool = False

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


class WebhookIn(RequestModel):
    topic: Slug = Field(description="The topic whose news it hears.")
    url: str = Field(
        min_length=8,
        max_length=2000,
        description="The incoming-webhook URL: http(s), a public address, no credentials.",
    )
    format: Format = Field(default=Format.slack, description="`slack` or `teams`.")


class WebhookOut(BaseModel):
    id: int
    topic: str
    url: str = Field(description="Its origin only: incoming-webhook URLs hold a secret.")
    format: Format
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The HMAC-SHA256 key of its signatures (`X-Vouch-Signature: sha256=<hex "
        "of HMAC(secret, '<X-Vouch-Timestamp>.<body>')>`). Shown this once."
    )


class WebhookList(BaseModel):
    items: list[WebhookOut]


class DeliveryOut(BaseModel):
    id: int
    channel: str = Field(description="`email` or `webhook`.")
    kind: str = Field(description="The kind of news, `summary` or `digest`.")
    recipient: str | None = Field(description="The username an email is for.")
    webhook_id: int | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
