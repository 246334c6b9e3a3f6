from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import AuditCtx, CurrentUser, SessionDep
from app.notifications import service
from app.notifications.schemas import (
    MarkedRead,
    MarkRead,
    NotificationOut,
    NotificationPage,
    SettingOut,
    SettingsOut,
    SettingsUpdate,
)
from app.notifications.service import Listed
from app.notifications.settings import CHOICES, KIND_LABELS, Setting, settings_of, update_settings
from app.pagination import CursorParam, PageSize, decode_cursor, next_cursor

router = APIRouter(tags=["notifications"])


def notification_out(listed: Listed) -> NotificationOut:
    n = listed.notification
    if n.question_id is None:
        link = "/learning-needs"
    else:
        link = f"/questions/{n.question_id}" + (f"#answer-{n.answer_id}" if n.answer_id else "")
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        topic=listed.topic_slug,
        question_id=n.question_id,
        question_title=listed.question_title,
        answer_id=n.answer_id,
        actor=listed.actor_name,
        detail=n.payload,
        link=link,
        created_at=n.created_at,
        read=n.read_at is not None,
    )


@router.get(
    "/notifications", response_model=NotificationPage, summary="My notifications, newest first"
)
def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> NotificationPage:
    rows = service.list_notifications(
        session, user, unread_only=unread, before_id=decode_cursor(cursor), limit=limit + 1
    )
    return NotificationPage(
        items=[notification_out(r) for r in rows[:limit]],
        next_cursor=next_cursor([r.notification for r in rows], limit),
        unread=service.unread_count(session, user),
    )


@router.post("/notifications/read", response_model=MarkedRead, summary="Mark notifications read")
def mark_read(session: SessionDep, user: CurrentUser, body: MarkRead) -> MarkedRead:
    marked = service.mark_read(session, user, None if body.all else body.ids)
    return MarkedRead(marked=marked, unread=service.unread_count(session, user))


def settings_out(found: list[Setting]) -> SettingsOut:
    return SettingsOut(
        settings=[
            SettingOut(
                kind=s.kind,
                label=KIND_LABELS[s.kind],
                channel=s.channel,
                frequency=s.frequency,
                default=s.is_default,
                choices=list(CHOICES[s.channel]),
            )
            for s in found
        ]
    )


@router.get(
    "/me/notification-settings", response_model=SettingsOut, summary="My notification settings"
)
def my_settings(session: SessionDep, user: CurrentUser) -> SettingsOut:
    return settings_out(settings_of(session, user))


@router.put(
    "/me/notification-settings",
    response_model=SettingsOut,
    summary="Change my notification settings (the ones given; the others stay)",
)
def change_my_settings(
    session: SessionDep, user: CurrentUser, ctx: AuditCtx, body: SettingsUpdate
) -> SettingsOut:
    changes = [(s.kind, s.channel, s.frequency) for s in body.settings]
    return settings_out(update_settings(session, ctx, user, changes))
